from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError
from config.events import TRAINING, figures_changed
from roster.ordering import unit_order

from .attendance import attendances_set_status
from .events import training_event_changed, training_event_check, training_events_rotate_tokens
from .models import Attendance, AttendanceStatus, EventKind, StudyHoursRequirement, TrainingEvent, TrainingTarget
from .selectors import events_list

INLINE_ROWS = 200


class AttendanceInline(admin.TabularInline):
    """The first records of the event, read-only: an event may have two thousand attendees,
    more than one admin form can post. The full list (with status changes) is the attendance
    list filtered by the event."""

    model = Attendance
    fields = ("staff", "unit", "status", "source", "signed_in_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("出勤记录")
    verbose_name_plural = _("出勤记录（最多显示 200 条；全部记录与修改见“出勤记录”列表）")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        # a new record needs the unit frozen at the event's date: the services do that
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Attendance]:
        return super().get_queryset(request).select_related("staff", "unit").order_by(*unit_order("unit__"), "staff__staff_no")


class TrainingEventAdminForm(forms.ModelForm):
    class Meta:
        model = TrainingEvent
        fields = ("title", "kind", "date", "hours", "organiser", "speaker", "location", "audience", "audience_units",
                  "signin_opens_at", "signin_closes_at")

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors:
            try:
                training_event_check(title=data.get("title", ""), kind=data.get("kind", ""),
                                     hours=data.get("hours"), date=data.get("date"))
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from exc
        return data


@admin.register(TrainingEvent)
class TrainingEventAdmin(admin.ModelAdmin):
    form = TrainingEventAdminForm
    list_display = ("title", "kind", "date", "hours", "organiser", "audience", "attended_count", "signin_link")
    list_filter = ("kind", "audience", "organiser")
    date_hierarchy = "date"
    search_fields = ("title", "speaker", "location")
    filter_horizontal = ("audience_units",)
    readonly_fields = ("attended_count", "attendance_list", "signin_qr", "created_at")
    fieldsets = (
        (None, {"fields": ("title", "kind", "date", "hours")}),
        (_("主办"), {"fields": ("organiser", "speaker", "location")}),
        (_("参加对象"), {"fields": ("audience", "audience_units")}),
        (_("扫码签到"), {"fields": ("signin_opens_at", "signin_closes_at", "signin_qr")}),
        (_("统计"), {"fields": ("attended_count", "attendance_list", "created_at")}),
    )
    inlines = [AttendanceInline]
    actions = ["rotate_token"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrainingEvent]:
        return events_list()

    @admin.display(description=_("参训人数"), ordering="attended")
    def attended_count(self, obj: TrainingEvent) -> int:
        return getattr(obj, "attended", 0)

    @admin.display(description=_("出勤记录"))
    def attendance_list(self, obj: TrainingEvent) -> str:
        if not obj.pk:
            return "—"
        url = reverse("admin:training_attendance_changelist") + f"?event__id__exact={obj.pk}"
        total = Attendance.objects.filter(event=obj).count()
        return format_html('<a href="{}">{}</a>', url, _("全部 %(n)d 条出勤记录") % {"n": total})

    def get_formset_kwargs(self, request: HttpRequest, obj, inline, prefix: str) -> dict:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, AttendanceInline) and obj is not None and obj.pk:
            first = inline.get_queryset(request).filter(event=obj).values_list("pk", flat=True)[:INLINE_ROWS]
            kwargs["queryset"] = inline.get_queryset(request).filter(pk__in=list(first))
        return kwargs

    @admin.display(description=_("签到页"))
    def signin_link(self, obj: TrainingEvent) -> str:
        url = reverse("training:signin", args=[obj.signin_token])
        return format_html('<a href="{}" target="_blank" rel="noreferrer">{}</a>', url, _("打开"))

    @admin.display(description=_("签到二维码"))
    def signin_qr(self, obj: TrainingEvent) -> str:
        if not obj.pk:
            return _("保存后生成签到二维码。")
        token = obj.signin_token
        svg = reverse("training:signin_qr_svg", args=[token])
        png = reverse("training:signin_qr_png", args=[token])
        page = reverse("training:signin", args=[token])
        opens, closes = obj.signin_window()
        return format_html(
            '<img src="{}" alt="{}" width="220" height="220" style="background:#fff"><br>'
            '<a href="{}" download>{}</a> · <a href="{}" download>{}</a> · '
            '<a href="{}" target="_blank" rel="noreferrer">{}</a><br>{}',
            svg, _("签到二维码"), png, _("下载 PNG"), svg, _("下载 SVG"), page, _("打开签到页"),
            _("签到时间：%(opens)s 至 %(closes)s") % {
                "opens": f"{timezone.localtime(opens):%Y-%m-%d %H:%M}",
                "closes": f"{timezone.localtime(closes):%Y-%m-%d %H:%M}",
            },
        )

    def save_model(self, request: HttpRequest, obj: TrainingEvent, form, change: bool) -> None:
        previous_year = None
        if change and obj.pk:
            previous_year = TrainingEvent.objects.filter(pk=obj.pk).values_list("date__year", flat=True).first()
        super().save_model(request, obj, form, change)
        if change:
            training_event_changed(event=obj, previous_year=previous_year)

    def delete_model(self, request: HttpRequest, obj: TrainingEvent) -> None:
        year = obj.date.year
        super().delete_model(request, obj)
        figures_changed(kind=TRAINING, year=year)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[TrainingEvent]) -> None:
        years = set(queryset.values_list("date__year", flat=True))
        super().delete_queryset(request, queryset)
        for year in years:
            figures_changed(kind=TRAINING, year=year)

    @admin.action(description=_("更换签到链接（原二维码作废）"))
    def rotate_token(self, request: HttpRequest, queryset: QuerySet[TrainingEvent]) -> None:
        changed = training_events_rotate_tokens(event_ids=queryset.order_by().values_list("pk", flat=True))
        self.message_user(request, _("已为 %(n)d 个培训活动更换签到链接。") % {"n": changed}, messages.SUCCESS)


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    list_display = ("event", "staff_no", "staff_name", "unit", "status", "source", "signed_in_at")
    list_filter = (("event", admin.RelatedOnlyFieldListFilter), ("unit", admin.RelatedOnlyFieldListFilter), "status", "source")
    search_fields = ("staff__staff_no", "staff__name", "event__title")
    list_select_related = ("event", "staff", "unit")
    fields = ("event", "staff", "unit", "status", "source", "signed_in_at", "import_record", "created_at")
    readonly_fields = ("event", "staff", "unit", "source", "signed_in_at", "import_record", "created_at")
    actions = ["mark_present", "mark_late", "mark_excused", "mark_absent"]

    def _mark(self, request: HttpRequest, queryset: QuerySet[Attendance], status: str) -> None:
        changed = attendances_set_status(attendances=queryset, status=status)
        self.message_user(request, _("已修改 %(n)d 条出勤记录。") % {"n": changed}, messages.SUCCESS)

    @admin.action(description=_("标记为出席"))
    def mark_present(self, request: HttpRequest, queryset: QuerySet[Attendance]) -> None:
        self._mark(request, queryset, AttendanceStatus.PRESENT)

    @admin.action(description=_("标记为迟到"))
    def mark_late(self, request: HttpRequest, queryset: QuerySet[Attendance]) -> None:
        self._mark(request, queryset, AttendanceStatus.LATE)

    @admin.action(description=_("标记为请假"))
    def mark_excused(self, request: HttpRequest, queryset: QuerySet[Attendance]) -> None:
        self._mark(request, queryset, AttendanceStatus.EXCUSED)

    @admin.action(description=_("标记为缺席"))
    def mark_absent(self, request: HttpRequest, queryset: QuerySet[Attendance]) -> None:
        self._mark(request, queryset, AttendanceStatus.ABSENT)

    @admin.display(description=_("工号"), ordering="staff__staff_no")
    def staff_no(self, obj: Attendance) -> str:
        return obj.staff.staff_no

    @admin.display(description=_("姓名"), ordering="staff__name")
    def staff_name(self, obj: Attendance) -> str:
        return obj.staff.name

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Attendance, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        training_event_changed(event=obj.event)

    def delete_model(self, request: HttpRequest, obj: Attendance) -> None:
        event = obj.event
        super().delete_model(request, obj)
        training_event_changed(event=event)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Attendance]) -> None:
        years = set(queryset.values_list("event__date__year", flat=True))
        super().delete_queryset(request, queryset)
        for year in years:
            figures_changed(kind=TRAINING, year=year)


@admin.register(StudyHoursRequirement)
class StudyHoursRequirementAdmin(admin.ModelAdmin):
    list_display = ("year", "hours", "note")

    def save_model(self, request: HttpRequest, obj: StudyHoursRequirement, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        figures_changed(kind=TRAINING, year=obj.year)


@admin.register(EventKind)
class EventKindAdmin(admin.ModelAdmin):
    """The kinds of training events. A code is a contract (sign-in sheets and the API name
    it): it cannot be changed once saved, and a kind that events use cannot be deleted."""

    list_display = ("code", "name", "counts_hours", "default_hours", "sort_order", "events")
    list_editable = ("name", "counts_hours", "default_hours", "sort_order")
    ordering = ("sort_order", "code")

    def get_readonly_fields(self, request: HttpRequest, obj: EventKind | None = None) -> tuple[str, ...]:
        return ("code",) if obj is not None else ()

    @admin.display(description=_("活动数"))
    def events(self, obj: EventKind) -> int:
        return TrainingEvent.objects.filter(kind=obj.code).count()

    def has_delete_permission(self, request: HttpRequest, obj: EventKind | None = None) -> bool:
        if obj is not None and TrainingEvent.objects.filter(kind=obj.code).exists():
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: EventKind, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # whether a kind counts hours changes every year's figures that have its events
        for year in TrainingEvent.objects.filter(kind=obj.code).dates("date", "year"):
            figures_changed(kind=TRAINING, year=year.year)


@admin.register(TrainingTarget)
class TrainingTargetAdmin(admin.ModelAdmin):
    list_display = ("year", "category_label", "hours")
    list_filter = ("year",)
    ordering = ("-year", "category")

    @admin.display(description=_("人员类别"), ordering="category")
    def category_label(self, obj: TrainingTarget) -> str:
        return obj.category or str(_("（默认：所有其他人员）"))

    def save_model(self, request: HttpRequest, obj: TrainingTarget, form, change: bool) -> None:
        obj.category = (obj.category or "").strip() or None
        super().save_model(request, obj, form, change)
        figures_changed(kind=TRAINING, year=obj.year)

    def delete_model(self, request: HttpRequest, obj: TrainingTarget) -> None:
        super().delete_model(request, obj)
        figures_changed(kind=TRAINING, year=obj.year)
