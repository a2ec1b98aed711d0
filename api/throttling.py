"""API rate limits. A role marked ``rate_limit_exempt`` (system integrations, the benchmark's
load user) is not counted."""

from __future__ import annotations

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from access.scoping import scope_for


class ExemptMixin:
    def allow_request(self, request, view) -> bool:
        if scope_for(request.user).rate_limit_exempt:
            return True
        return super().allow_request(request, view)


class ApiAnonRateThrottle(AnonRateThrottle):
    scope = "anon"


class ApiUserRateThrottle(ExemptMixin, UserRateThrottle):
    scope = "user"


class UploadRateThrottle(ExemptMixin, UserRateThrottle):
    """Writes (uploads, creates, updates) have a rate of their own."""

    scope = "uploads"

    def allow_request(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)
