from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError

from .models import RosterDropFile, RosterSync, Staff, StaffChange, Unit


class UnitAdminForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ("code", "name", "parent", "kind", "is_active", "sort_order")

    def clean(self) -> dict:
        from .units import unit_parent_check

        data = super().clean()
        try:
            unit_parent_check(unit=self.instance, parent=data.get("parent"))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        return data


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    form = UnitAdminForm
    list_display = ("code", "name", "parent", "kind", "is_active", "sort_order")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    readonly_fields = ("path", "depth")

    def save_model(self, request, obj, form, change) -> None:
        from .units import units_rebuild_paths

        super().save_model(request, obj, form, change)
        units_rebuild_paths()


class StaffChangeInline(admin.TabularInline):
    model = StaffChange
    fields = ("changed_at", "kind", "field", "old_value", "new_value", "sync")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-changed_at", "-id")
    verbose_name = _("变动记录")
    verbose_name_plural = _("变动历史")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sync")


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ("staff_no", "name", "unit", "position", "id_number_masked", "masked_phone", "is_active")
    list_filter = ("is_active", "unit")
    search_fields = ("staff_no", "name")
    list_select_related = ("unit",)
    # the ID number is shown masked only; it is changed through the roster sync
    fields = (
        "staff_no", "name", "gender", "id_number_masked", "unit", "position", "category", "is_head",
        "enforcement_cert", "phone", "is_active", "joined_on", "left_on", "created_by_sync", "created_at", "updated_at",
    )
    readonly_fields = ("id_number_masked", "joined_on", "left_on", "created_by_sync", "created_at", "updated_at")
    inlines = [StaffChangeInline]

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: Staff) -> str:
        return obj.phone_masked

    def has_add_permission(self, request) -> bool:
        # staff come from HR's roster file (or the API's staff service), which keep the history
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # staff are deactivated, never deleted: their exam and training history stays
        return False


@admin.register(RosterSync)
class RosterSyncAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "file_name", "source", "mode", "dry_run", "status", "applied",
                    "created", "updated", "unchanged", "deactivated", "reactivated", "rejected")
    list_filter = ("kind", "status", "mode", "source", "applied")
    search_fields = ("file_name", "sha256")
    list_select_related = ("started_by",)
    exclude = ("source_file", "errors", "preview")
    readonly_fields = ("error_table",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in RosterSync._meta.fields if f.name not in self.exclude] + ["error_table"]

    @admin.display(description=_("错误明细"))
    def error_table(self, obj: RosterSync) -> str:
        if not obj.errors:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((e.get("row") or "—", e.get("column") or "—", e.get("value") or "", e.get("message")) for e in obj.errors),
        )
        return format_html(
            '<table><thead><tr><th>行</th><th>列</th><th>值</th><th>说明</th></tr></thead><tbody>{}</tbody></table>', rows
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RosterDropFile)
class RosterDropFileAdmin(admin.ModelAdmin):
    list_display = ["path", "status", "size", "sync", "first_seen_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["path"]
    readonly_fields = [f.name for f in RosterDropFile._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
