"""``Authorization: Bearer <token>``: the API token that ``POST /api/v1/auth/token/`` issues,
with its lifetime (``API_TOKEN_TTL_HOURS``), read by the API's own token authentication."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.throttling import UserRateThrottle

from access.scoping import SCIM_PROVISION, scope_for
from api.authentication import TokenAuthentication
from api.throttling import ExemptMixin


class BearerTokenAuthentication(TokenAuthentication):
    keyword = "Bearer"

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="scim"'


class ScimPermission(BasePermission):
    """hr or a provisioner (``SCIM_PROVISION``), asked of the one scoping helper."""

    message = "您的角色无权使用 SCIM 接口（需要 hr 或 provisioner 角色）。"

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and scope_for(request.user).can(SCIM_PROVISION))


class ScimRateThrottle(ExemptMixin, UserRateThrottle):
    """SCIM's own rate (``SCIM_THROTTLE``), per user; a rate-limit-exempt role is not counted."""

    scope = "scim"
