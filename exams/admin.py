from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError

from .creation import exam_create, exam_update, exam_validate
from .exemptions import candidates_exempt, candidates_lift_exemption
from .makeup import makeup_unfold
from .models import Attempt, Candidate, Exam, ExamImport
from .selectors import exam_stats, not_sat_q, sat_q


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


class ExamForm(forms.ModelForm):
    class Meta:
        model = Exam
        fields = ("name", "year", "kind", "audience", "pass_mark", "max_score", "opens_on", "closes_on")
        help_texts = {
            "audience": _("留空时：学法用法考试为全体在册人员，执法类考试为持执法证人员。创建后不能修改。"),
            "closes_on": _("截止后，考生所在单位、离册和新进人员的统计口径即被冻结。"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "audience" in self.fields:
            self.fields["audience"].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        instance = self.instance
        values = {
            name: data.get(name, getattr(instance, name, None))
            for name in ("name", "year", "kind", "audience", "pass_mark", "max_score", "opens_on", "closes_on")
        }
        if self.errors:
            return data
        try:
            self.spec = exam_validate(**values)
        except DomainError as exc:
            raise forms.ValidationError(exc.message)
        if "audience" in self.fields:
            data["audience"] = self.spec.audience
        return data


@admin.register(Exam)
class ExamAdmin(admin.ModelAdmin):
    form = ExamForm
    list_display = ("name", "year", "kind", "audience", "opens_on", "closes_on", "window", "pass_mark", "candidate_count")
    list_filter = ("year", "kind", "audience")
    search_fields = ("name",)
    readonly_fields = ("figures", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Exam]:
        return super().get_queryset(request).annotate(n_candidates=Count("candidates"))

    def get_readonly_fields(self, request: HttpRequest, obj: Exam | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("year", "kind", "audience", "makeup_of", "figures", "created_at")

    def get_fields(self, request: HttpRequest, obj: Exam | None = None) -> list[str]:
        fields = ["name", "year", "kind", "audience", "pass_mark", "max_score", "opens_on", "closes_on"]
        # a make-up is created with create_exam --makeup-of, the API or the web form; shown here
        return fields if obj is None else fields + ["makeup_of", "figures", "created_at"]

    def delete_model(self, request: HttpRequest, obj: Exam) -> None:
        with transaction.atomic():
            makeup_unfold(makeup_ids=[obj.pk])
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Exam]) -> None:
        with transaction.atomic():
            makeup_unfold(makeup_ids=list(queryset.values_list("pk", flat=True)))
            super().delete_queryset(request, queryset)

    @admin.display(description=_("状态"))
    def window(self, obj: Exam) -> str:
        return obj.window_state()

    @admin.display(description=_("考生人数"), ordering="n_candidates")
    def candidate_count(self, obj: Exam) -> int:
        return getattr(obj, "n_candidates", 0)

    @admin.display(description=_("统计"))
    def figures(self, obj: Exam) -> str:
        f = exam_stats(exam=obj)
        average = "—" if f["average_score"] is None else f"{f['average_score']:.2f}"
        rows = (
            (_("考生"), f["candidates"]), (_("免考"), f["exempt"]), (_("应考"), f["expected"]), (_("实考"), f["sat"]),
            (_("未考"), f["not_sat"]), (_("合格"), f["passed"]), (_("不合格"), f["failed"]),
            (_("参考率"), _percent(f["participation_rate"])), (_("合格率"), _percent(f["pass_rate"])), (_("平均分"), average),
        )
        return format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    def save_model(self, request: HttpRequest, obj: Exam, form: ExamForm, change: bool) -> None:
        spec = form.spec
        try:
            if change:
                saved = exam_update(exam=obj, spec=spec)
            else:
                saved = exam_create(
                    name=spec.name, year=spec.year, kind=spec.kind, audience=spec.audience, pass_mark=spec.pass_mark,
                    max_score=spec.max_score, opens_on=spec.opens_on, closes_on=spec.closes_on,
                )
        except DomainError as exc:
            # the form already checked the values; this is a race (e.g. a duplicate name)
            self.message_user(request, exc.message, messages.ERROR)
            raise
        obj.pk = saved.pk
        obj.audience = saved.audience
        obj._state.adding = False
        obj._state.db = saved._state.db


class StateFilter(admin.SimpleListFilter):
    title = _("状态")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("not_sat", _("未参考")),
            ("passed", _("合格")),
            ("failed", _("不合格")),
            ("exempt", _("免考")),
            ("left", _("考试截止前离册（不计应考）")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> QuerySet[Candidate]:
        closes_on = F("exam__closes_on")
        conditions = {
            "not_sat": not_sat_q(closes_on=closes_on),
            "passed": sat_q(closes_on=closes_on) & Q(passed=True),
            "failed": sat_q(closes_on=closes_on) & Q(passed=False),
            "exempt": Q(exempt=True),
            "left": Q(exempt=False, best_score__isnull=True, left_on__isnull=False, left_on__lte=closes_on),
        }
        condition = conditions.get(self.value() or "")
        return queryset.filter(condition) if condition is not None else queryset


class ExemptActionForm(ActionForm):
    reason = forms.CharField(label=_("免考原因"), required=False, max_length=200)


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ("staff_no", "staff_name", "exam", "unit", "state", "best_score", "attempt_count", "exempt_reason")
    list_filter = ("exam", StateFilter, ("unit", admin.RelatedOnlyFieldListFilter), "enrolled_via")
    search_fields = ("staff__staff_no", "staff__name")
    list_select_related = ("staff", "unit", "exam")
    ordering = ("-exam_id", "unit__code", "staff__staff_no")
    action_form = ExemptActionForm
    actions = ("mark_exempt", "lift_exemption")
    readonly_fields = (
        "exam", "staff", "unit", "state", "exempt", "exempt_reason", "best_score", "attempt_count", "passed", "left_on",
        "enrolled_via", "enrolled_at",
    )
    fields = readonly_fields

    @admin.display(description=_("工号"), ordering="staff__staff_no")
    def staff_no(self, obj: Candidate) -> str:
        return obj.staff.staff_no

    @admin.display(description=_("姓名"), ordering="staff__name")
    def staff_name(self, obj: Candidate) -> str:
        return obj.staff.name

    @admin.display(description=_("状态"))
    def state(self, obj: Candidate) -> str:
        return obj.state_label()

    @admin.action(description=_("标记为免考（请在上方填写免考原因）"), permissions=["change"])
    def mark_exempt(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> None:
        try:
            changed = candidates_exempt(candidates=queryset, reason=request.POST.get("reason", ""))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, _("已将 %(n)d 名考生标记为免考。") % {"n": changed}, messages.SUCCESS)

    @admin.action(description=_("取消免考"), permissions=["change"])
    def lift_exemption(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> None:
        changed = candidates_lift_exemption(candidates=queryset)
        self.message_user(request, _("已取消 %(n)d 名考生的免考。") % {"n": changed}, messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # candidates come from the exam's audience, results and exemption lists
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Candidate | None = None) -> bool:
        return False


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ("staff_no", "staff_name", "exam", "score", "taken_at", "import_record", "row_number", "created_at")
    list_filter = ("exam",)
    search_fields = ("candidate__staff__staff_no", "candidate__staff__name")
    list_select_related = ("candidate__staff", "exam", "import_record")
    ordering = ("-id",)
    readonly_fields = ("exam", "candidate", "score", "taken_at", "import_record", "row_number", "created_at")
    fields = readonly_fields

    @admin.display(description=_("工号"), ordering="candidate__staff__staff_no")
    def staff_no(self, obj: Attempt) -> str:
        return obj.candidate.staff.staff_no

    @admin.display(description=_("姓名"))
    def staff_name(self, obj: Attempt) -> str:
        return obj.candidate.staff.name

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Attempt | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Attempt | None = None) -> bool:
        return False


@admin.register(ExamImport)
class ExamImportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "target_id", "file_name", "status", "rows", "count_summary", "voided_at")
    list_filter = ("kind", "status")
    search_fields = ("file_name", "sha256")
    list_select_related = ("started_by",)
    fields = (
        "kind", "target_id", "file_name", "sha256", "status", "message", "rows", "count_summary", "options",
        "started_by", "created_at", "started_at", "finished_at", "progress_done", "progress_total", "warning_list",
        "problem_table", "voided_at", "voided_by", "void_reason",
    )
    readonly_fields = fields

    @admin.display(description=_("计数"))
    def count_summary(self, obj: ExamImport) -> str:
        labels = {
            "applied": _("导入"), "duplicates": _("重复"), "absent": _("缺考"), "unmatched": _("名册中无此人"),
            "conflicts": _("冲突"), "invalid": _("无效"), "enrolled": _("新登记考生"),
        }
        counts = obj.counts or {}
        return "，".join(f"{label} {counts[key]}" for key, label in labels.items() if key in counts) or "—"

    @admin.display(description=_("提示"))
    def warning_list(self, obj: ExamImport) -> str:
        if not obj.warnings:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((w,) for w in obj.warnings)))

    @admin.display(description=_("问题明细"))
    def problem_table(self, obj: ExamImport) -> str:
        if not obj.problems:
            return "—"
        kinds = {"invalid": _("无效"), "unmatched": _("名册中无此人"), "conflict": _("冲突"), "ambiguous": _("无法确定")}
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (p.get("row") or "—", p.get("column") or "—", p.get("value") or "", kinds.get(p.get("kind"), p.get("kind")),
                 p.get("message"))
                for p in obj.problems
            ),
        )
        return format_html(
            "<table><thead><tr><th>行</th><th>列</th><th>值</th><th>类型</th><th>说明</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ExamImport | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ExamImport | None = None) -> bool:
        return False
