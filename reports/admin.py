from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError

from .models import AnnualReport, ExamSnapshot, SnapshotRun, TrainingSnapshot
from .snapshots import snapshots_refresh


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Snapshots and runs are written by the refresh only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(SnapshotRun)
class SnapshotRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "trigger", "status", "created_at", "computed_at", "requests", "rows", "duration_ms", "message")
    list_filter = ("status", "trigger")
    actions = ("refresh_everything",)

    @admin.action(description=_("立即重算全部统计快照"))
    def refresh_everything(self, request: HttpRequest, queryset: QuerySet[SnapshotRun]) -> None:
        try:
            run = snapshots_refresh(everything=True)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, run.message, messages.SUCCESS)


@admin.register(ExamSnapshot)
class ExamSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("exam", "unit", "rollup", "computed_at", "expected", "sat", "not_sat", "passed", "participation",
                    "passing", "average")
    list_filter = ("exam", "rollup", "unit__kind", "unit__depth")
    list_select_related = ("exam", "unit")
    search_fields = ("unit__name", "unit__code")
    date_hierarchy = "computed_at"

    @admin.display(description=_("参考率"), ordering="participation_rate")
    def participation(self, obj: ExamSnapshot) -> str:
        return _percent(obj.participation_rate)

    @admin.display(description=_("合格率"), ordering="pass_rate")
    def passing(self, obj: ExamSnapshot) -> str:
        return _percent(obj.pass_rate)

    @admin.display(description=_("平均分"), ordering="average_score")
    def average(self, obj: ExamSnapshot) -> str:
        return "—" if obj.average_score is None else f"{obj.average_score:.2f}"


@admin.register(TrainingSnapshot)
class TrainingSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("year", "unit", "rollup", "computed_at", "attendances", "staff_trained", "person_hours",
                    "staff_below_hours")
    list_filter = ("year", "rollup", "unit__kind", "unit__depth")
    list_select_related = ("unit",)
    search_fields = ("unit__name", "unit__code")
    date_hierarchy = "computed_at"


@admin.register(AnnualReport)
class AnnualReportAdmin(ReadOnlyAdmin):
    list_display = ("year", "format", "status", "created_at", "finished_at", "started_by", "size", "message")
    list_filter = ("status", "format", "year")
    list_select_related = ("started_by",)
    exclude = ("file", "report")
    readonly_fields = ("narrative",)

    @admin.display(description=_("情况综述"))
    def narrative(self, obj: AnnualReport) -> str:
        return format_html("<p>{}</p>", (obj.report or {}).get("narrative", ""))
