"""One import (results, exemptions, sign-in sheet): progress, counts, every problem as a table,
and, for a web dry run of an exam import, the confirm button."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from access import scoping
from access.scoping import Scope
from certificates import capabilities as cert_caps
from certificates.imports import certificate_import_confirm
from config.errors import AMBIGUOUS, CONFLICT, DUPLICATE, INVALID, UNMATCHED, DomainError
from exams.imports import exam_import_confirm
from exams.models import EXAM_IMPORT_KINDS
from sheets.models import ImportKind, ImportRecord
from sheets.services import import_record_confirm_refusal
from sheets.voiding import import_void, import_void_refusal

from .base import page, progress_json, progress_of, render_page

PROBLEM_KINDS = (
    (UNMATCHED, _("名册中无此人")),
    (CONFLICT, _("信息冲突")),
    (INVALID, _("无效")),
    (AMBIGUOUS, _("无法确定是谁")),
    (DUPLICATE, _("重复")),
)
COUNT_LABELS = {
    "rows": _("行数"),
    "applied": _("导入"),
    "already_recorded": _("已有记录"),
    "duplicates": _("重复"),
    "absent": _("缺考"),
    "enrolled": _("新登记考生"),
    "unmatched": _("名册中无此人"),
    "conflicts": _("信息冲突"),
    "invalid": _("无效"),
    "ambiguous": _("无法确定"),
    "created": _("新增"),
    "updated": _("更新"),
    "unchanged": _("未变"),
}
PROBLEMS_PER_PAGE = 200


def _record(scope: Scope, pk: int) -> ImportRecord:
    return scope.get(scope.imports(ImportRecord.objects.select_related("started_by", "voided_by")), pk=pk)


@page(scoping.IMPORTS_READ)
@require_GET
def import_page(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    record = _record(scope, pk)
    problems = record.problems or []
    kind = request.GET.get("kind", "")
    tabs = [
        {"kind": key, "label": label, "count": sum(1 for p in problems if p.get("kind") == key)}
        for key, label in PROBLEM_KINDS
    ]
    shown = [p for p in problems if not kind or p.get("kind") == kind]
    is_exam = record.kind in EXAM_IMPORT_KINDS
    is_certificates = record.kind == ImportKind.CERTIFICATES
    dry_run = bool((record.options or {}).get("dry_run"))
    refusal = import_record_confirm_refusal(record=record) if dry_run else ""
    counts = [{"key": k, "label": COUNT_LABELS.get(k, k), "value": v} for k, v in (record.counts or {}).items()]
    context = {
        "record": record,
        "progress": progress_of(record),
        "dry_run": dry_run,
        "counts": counts,
        "tabs": [t for t in tabs if t["count"]],
        "kind": kind,
        "problems": shown[:PROBLEMS_PER_PAGE],
        "problems_total": len(shown),
        "problems_cut": len(shown) > PROBLEMS_PER_PAGE,
        "is_exam": is_exam,
        "is_attendance": record.kind == ImportKind.ATTENDANCE,
        "is_certificates": is_certificates,
        "can_confirm": dry_run and not refusal and (
            (is_exam and scope.can(scoping.EXAMS_WRITE))
            or (is_certificates and scope.can(cert_caps.CERTIFICATES_WRITE))
        ),
        "confirm_refusal": refusal,
        "can_void": scope.imports_voidable(ImportRecord.objects.filter(pk=record.pk)).exists()
        and not import_void_refusal(record=record),
    }
    section = "exams" if is_exam else "certificates" if is_certificates else "events"
    return render_page(request, scope, "web/imports/detail.html", context, section=section)


@page(scoping.IMPORTS_READ)
@require_GET
def import_progress(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    return progress_json(scope.get(scope.imports(ImportRecord.objects.all()), pk=pk))


@page(scoping.IMPORTS_READ)
@require_POST
def import_confirm(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    dry_run = _record(scope, pk)
    try:
        if dry_run.kind == ImportKind.CERTIFICATES:
            scope.require(cert_caps.CERTIFICATES_WRITE)
            record = ImportRecord.objects.get(
                pk=certificate_import_confirm(dry_run_record=dry_run, started_by=request.user).import_id)
        else:
            scope.require(scoping.EXAMS_WRITE)
            record = exam_import_confirm(dry_run_record=dry_run, started_by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("web:import", pk=dry_run.pk)
    return redirect("web:import", pk=record.pk)


@page(scoping.IMPORTS_VOID)
def import_void_page(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    """Voiding an import: GET shows what it would remove (a dry run), POST (with a reason)
    voids it and goes back to the import's page."""
    record = scope.get(scope.imports_voidable(ImportRecord.objects.select_related("started_by", "voided_by")), pk=pk)
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    try:
        if request.method == "POST":
            result = import_void(
                import_id=record.pk, reason=request.POST.get("reason", "")[:500], user=request.user,
                records=scope.imports_voidable(ImportRecord.objects.all()),
            )
            messages.success(request, _(
                "已撤销：删除考试记录 %(attempts)s 条、免考 %(exemptions)s 人、出勤记录 %(attendances)s 条，保留 %(kept)s 条。"
            ) % {**result.removed, "kept": result.kept})
            return redirect("web:import", pk=record.pk)
        preview = import_void(import_id=record.pk, dry_run=True, records=scope.imports_voidable(ImportRecord.objects.all()))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("web:import", pk=record.pk)
    context = {"record": record, "preview": preview, "removed_total": preview.total_removed}
    section = "exams" if record.kind in EXAM_IMPORT_KINDS else "events"
    return render_page(request, scope, "web/imports/void.html", context, section=section)
