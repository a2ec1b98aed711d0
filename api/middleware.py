"""Security headers for every response: a Content-Security-Policy, and ``Cache-Control:
no-store`` for responses that carry personal data (the API, and any page marked with
``personal_data``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def personal_data(view: Callable) -> Callable:
    """Mark a server-rendered page as showing personal data: its response is never cached."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.personal_data = True
        return response

    return wrapped


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY
        self.prefixes = tuple(settings.NO_STORE_PATH_PREFIXES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        if getattr(response, "personal_data", False) or request.path.startswith(self.prefixes):
            response["Cache-Control"] = "no-store"
        return response
