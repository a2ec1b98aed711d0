"""Log in, log out, and each role's home page."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from access.models import Role
from access.scoping import SUPERUSER, Scope

from ..forms import LoginForm
from .base import page, render_page

HOME = {
    Role.HR: "web:roster",
    Role.LEGAL_OFFICE: "web:exams",
    Role.LIAISON: "web:dashboard",
    Role.VIEWER: "web:annual_report",
    Role.STAFF: "web:my_record",
    SUPERUSER: "web:dashboard",
}


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@page()
def home(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    """Each role's home: hr the roster upload, the legal-affairs office the exams, a liaison
    their unit's dashboard, a viewer the annual report, a staff account its own learning record."""
    target = HOME.get(scope.role or "")
    if target is None:
        return render_page(request, scope, "web/no_role.html", status=403)
    return redirect(target)
