"""The one DRF permission class: it asks the caller's scope for the capability the view names."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from access.scoping import scope_for

# answered for any signed-in caller: OPTIONS describes the endpoint, not its data
OPEN_ACTIONS = {"metadata"}


class ScopePermission(BasePermission):
    """A view lists ``capabilities = {action: capability}`` (a ViewSet's actions, or an APIView's
    lower-case methods); a tuple of capabilities means any one of them. It fails closed: an
    action the view has but does not list is refused.
    A method the view does not have at all is let through, so DRF answers 405."""

    message = "您的角色无权进行此操作。"

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if hasattr(view, "action_map"):  # a ViewSet (not imported here: DRF loads this class early)
            action = view.action
            if action is None:
                return True
        else:
            action = request.method.lower()
            if not hasattr(view, action):
                return True
        if action in OPEN_ACTIONS:
            return True
        capability = getattr(view, "capabilities", {}).get(action)
        if capability is None:
            return False
        return scope_for(request.user).can_any(capability)
