"""The one DRF permission class: it asks the caller's scope for the capability the view names."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from .scoping import scope_for


class ScopePermission(BasePermission):
    """A view lists ``capabilities = {action: capability}``. An action it does not list is let
    through here (DRF then answers 405 for a method the view does not have)."""

    message = "您的角色无权进行此操作。"

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        capability = getattr(view, "capabilities", {}).get(getattr(view, "action", None))
        if capability is None:
            return True
        return scope_for(request.user).can(capability)
