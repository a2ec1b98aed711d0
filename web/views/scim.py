"""SCIM's mass-deactivation guard, for hr: how it stands, and the button that allows SCIM's
further deactivations for a while (the same service as ``scim_allow_deactivations``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from access import scoping
from access.scoping import Scope
from scim.services import deactivation_guard_state, scim_deactivations_allow

from .base import page, render_page


@page(scoping.ROSTER_SYNC_WRITE)
def scim_guard(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    if request.method == "POST":
        allowance = scim_deactivations_allow(user=request.user)
        messages.success(request, f"已允许 SCIM 越过大批停用保护，至 {timezone.localtime(allowance.until):%Y-%m-%d %H:%M}。")
        return redirect("web:scim_guard")
    return render_page(request, scope, "web/roster/scim.html", {"state": deactivation_guard_state()},
                       section="roster")
