from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import LoginThrottle


@admin.register(LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    """Deleting a row unlocks that account or address at once."""

    list_display = ("key", "failure_count", "updated_at")
    search_fields = ("key",)
    readonly_fields = ("key", "failures", "updated_at")

    @admin.display(description=_("失败次数"))
    def failure_count(self, obj: LoginThrottle) -> int:
        return len(obj.failures)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
