"""The unit dashboard (placeholder until the reports app lands)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from api import scoping
from api.scoping import Scope

from ..selectors import default_unit
from .base import page, render_page


@page(scoping.STATS_READ)
def dashboard_start(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    unit = default_unit(scope)
    return redirect("web:unit_dashboard", code=unit.code) if unit else render_page(request, scope, "web/no_role.html")


@page(scoping.STATS_READ)
def dashboard_page(request: HttpRequest, code: str, *, scope: Scope) -> HttpResponse:
    unit = scope.resolve_unit(code)
    return render_page(request, scope, "web/dashboard.html", {"unit": unit}, section="dashboard")
