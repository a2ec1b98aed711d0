"""The annual report (placeholder until the reports app lands)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from api import scoping
from api.scoping import Scope

from .base import page, render_page


@page(scoping.REPORTS_READ)
def annual_report_page(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    return render_page(request, scope, "web/reports/annual.html", {}, section="report")


@page(scoping.REPORTS_READ)
def annual_report_download(request: HttpRequest, year: int, fmt: str, *, scope: Scope) -> HttpResponse:
    raise Http404
