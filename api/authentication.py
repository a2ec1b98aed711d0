"""DRF's token and session authentication: tokens expire, and every refusal is in Chinese."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

# Django's reasons for refusing a request without a good CSRF token, in the words a user reads
CSRF_REASONS_ZH = {
    "CSRF cookie not set.": "未找到 CSRF Cookie，请刷新页面后重试。",
    "CSRF token missing.": "缺少 CSRF 令牌，请刷新页面后重试。",
    "CSRF token from POST incorrect.": "CSRF 令牌无效，请刷新页面后重试。",
    "CSRF token from POST has incorrect length.": "CSRF 令牌无效，请刷新页面后重试。",
    "CSRF token incorrect.": "CSRF 令牌无效，请刷新页面后重试。",
    "Referer checking failed - no Referer.": "请求缺少来源页面（Referer），请从本系统的页面提交。",
    "Referer checking failed - Referer is malformed.": "请求的来源页面（Referer）无效。",
    "Referer checking failed - Referer is insecure while host is secure.": "请求来自不安全的页面（HTTP）。",
}


def csrf_reason_zh(reason: str) -> str:
    """A CSRF refusal's reason in Chinese (Django's are English constants; a few carry the origin)."""
    if reason in CSRF_REASONS_ZH:
        return CSRF_REASONS_ZH[reason]
    if reason.startswith("CSRF token from") or "CSRF token" in reason:
        return "CSRF 令牌无效，请刷新页面后重试。"
    if reason.startswith("Origin checking failed"):
        return "请求的来源（Origin）不受信任。"
    if reason.startswith("Referer checking failed"):
        return "请求的来源页面（Referer）不受信任。"
    return "CSRF 校验失败，请刷新页面后重试。"


def token_expires_at(token) -> dt.datetime:
    return token.created + dt.timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def token_expired(token) -> bool:
    return timezone.now() >= token_expires_at(token)


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``, as DRF's own; one query for token, user, role and unit.
    A token is refused ``API_TOKEN_TTL_HOURS`` after it was issued (``Token.created``)."""

    def authenticate_credentials(self, key: str):
        model = self.get_model()
        if "\x00" in key:
            raise exceptions.AuthenticationFailed(_("令牌无效。"))
        token = (
            model.objects.select_related("user", "user__api_role", "user__api_role__unit").filter(key=key).first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("令牌无效。"))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("用户已停用。"))
        if token_expired(token):
            raise exceptions.AuthenticationFailed(_("令牌已过期，请重新获取。"))
        return (token.user, token)


class _CSRFCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, refusing a write without a good CSRF token in Chinese."""

    def enforce_csrf(self, request):
        def dummy_get_response(request):  # pragma: no cover - never called
            return None

        check = _CSRFCheck(dummy_get_response)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(f"CSRF 校验失败：{csrf_reason_zh(reason)}")
