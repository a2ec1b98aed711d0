"""DRF's token authentication, loading the user's role and unit in the same query."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``, as DRF's own; one query for token, user, role and unit."""

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
        return (token.user, token)
