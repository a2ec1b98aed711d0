from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from rest_framework.throttling import AnonRateThrottle

from config.errors import DomainError

from .services import LoginRefused, login_authenticate


class ThrottledLoginMixin:
    """Counts wrong passwords by account and by address, exactly as the API's token endpoint
    does (the same service). Mixed into Django's authentication forms."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = login_authenticate(
                    username=username,
                    password=password,
                    address=AnonRateThrottle().get_ident(self.request) if self.request else None,
                    request=self.request,
                )
            except LoginRefused as exc:
                raise ValidationError(exc.message, code="throttled")
            except DomainError:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login, counted by account and by address like the API's token endpoint."""
