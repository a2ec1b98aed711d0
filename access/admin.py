from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .models import UserRole


@admin.register(UserRole)
class UserRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "unit", "staff", "rate_limit_exempt", "updated_at")
    list_filter = ("role", "rate_limit_exempt")
    search_fields = ("user__username", "unit__code", "unit__name", "staff__staff_no")
    list_select_related = ("user", "unit", "staff")
    autocomplete_fields = ("user",)
    raw_id_fields = ("unit", "staff")
    readonly_fields = ("updated_at",)


class UserRoleInline(admin.StackedInline):
    model = UserRole
    can_delete = True
    extra = 0
    max_num = 1
    raw_id_fields = ("unit", "staff")
    verbose_name = _("角色")
    verbose_name_plural = _("角色")
    fields = ("role", "unit", "staff", "rate_limit_exempt")


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserWithRoleAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, UserRoleInline]
    list_display = (*UserAdmin.list_display, "role_name")
    list_select_related = ("api_role", "api_role__unit")

    @admin.display(description=_("角色"))
    def role_name(self, obj) -> str:
        role = getattr(obj, "api_role", None)
        if role is None:
            return "—"
        return f"{role.get_role_display()}（{role.unit.name}）" if role.unit_id else role.get_role_display()
