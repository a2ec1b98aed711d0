"""Exams (legal_office): list, create, an exam's figures and imports; the not-sat list and its
Excel download (legal_office, liaison for their subtree)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from access import scoping
from access.scoping import Scope
from api.services import exam_refresh_for_read
from api.views import client_address
from audit.models import AuditAction
from audit.services import audit_record
from config.errors import DomainError
from exams import exports
from exams.creation import exam_create
from exams.models import EXAM_IMPORT_KINDS, Exam
from exams.selectors import exam_stats_with_makeup, makeup_figures
from sheets.models import ImportKind

from ..forms import ExamForm, ImportUploadForm
from ..selectors import (
    default_unit,
    exams_figures,
    imports_of,
    managed_exams,
    not_sat_rows,
    picker_units,
    visible_exams,
)
from ..services import exam_import_dry_run_start
from .base import page, paginate, render_page

IMPORT_KINDS = {"results": ImportKind.EXAM_RESULTS, "exemptions": ImportKind.EXAM_EXEMPTIONS}


def _exam(scope: Scope, pk: int) -> Exam:
    return scope.get(visible_exams(scope), pk=pk)


@page(scoping.EXAMS_READ)
@require_GET
def exams_page(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    exams = paginate(request, visible_exams(scope), per_page=20)
    figures = exams_figures(scope=scope, exams=exams.object_list)
    rows = [{"exam": exam, "figures": figures.get(exam.pk)} for exam in exams.object_list]
    context = {"exams": exams, "rows": rows, "today": timezone.localdate(), "unit": default_unit(scope)}
    return render_page(request, scope, "web/exams/list.html", context, section="exams")


@page(scoping.EXAMS_WRITE)
def exam_new(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    form = ExamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            exam = exam_create(
                name=data["name"], year=data["year"], kind=data["kind"], audience=data["audience"] or None,
                pass_mark=data["pass_mark"], max_score=data["max_score"], opens_on=data["opens_on"],
                closes_on=data["closes_on"], makeup_of=data["makeup_of"], owner=scope.write_root,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("web:exam", pk=exam.pk)
    return render_page(request, scope, "web/exams/form.html", {"form": form}, section="exams")


def _upload_forms(request: HttpRequest, kind: str | None = None) -> dict[str, ImportUploadForm]:
    return {
        key: ImportUploadForm(request.POST if key == kind else None, request.FILES if key == kind else None, prefix=key)
        for key in IMPORT_KINDS
    }


def _exam_page(request: HttpRequest, scope: Scope, exam: Exam, forms: dict[str, ImportUploadForm]) -> HttpResponse:
    exam_refresh_for_read(exam=exam)
    unit = default_unit(scope)
    context = {
        "exam": exam,
        "unit": unit,
        "figures": exam_stats_with_makeup(exam=exam, unit=scope.within(None)),
        "forms": forms if scope.can(scoping.EXAMS_WRITE) else {},
        "imports": list(imports_of(scope=scope, kinds=EXAM_IMPORT_KINDS, target_id=exam.pk)[:30]),
    }
    return render_page(request, scope, "web/exams/detail.html", context, section="exams")


@page(scoping.EXAMS_READ)
@require_GET
def exam_page(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    return _exam_page(request, scope, _exam(scope, pk), _upload_forms(request))


@page(scoping.EXAMS_WRITE)
@require_POST
def exam_upload(request: HttpRequest, pk: int, kind: str, *, scope: Scope) -> HttpResponse:
    exam = scope.get(managed_exams(scope), pk=pk)
    if kind not in IMPORT_KINDS:
        raise Http404(_("不支持的导入类型。"))
    forms = _upload_forms(request, kind)
    form = forms[kind]
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = exam_import_dry_run_start(
                exam=exam, kind=IMPORT_KINDS[kind], file=upload, file_name=upload.name or kind,
                strict=form.cleaned_data["strict"], started_by=request.user,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("web:import", pk=record.pk)
    response = _exam_page(request, scope, exam, forms)
    response.status_code = 400
    return response


# --- not sat ----------------------------------------------------------------------------


@page(scoping.NOT_SAT_READ)
@require_GET
def not_sat_start(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    """The not-sat list of the unit picked (``?unit=``), else of the caller's own unit or the district."""
    exam = _exam(scope, pk)
    code = request.GET.get("unit", "")
    unit = scope.resolve_unit(code) if code else default_unit(scope)
    if unit is None:
        raise Http404(_("没有可查看的单位。"))
    return redirect("web:not_sat", pk=exam.pk, code=unit.code)


@page(scoping.NOT_SAT_READ)
@require_GET
def not_sat_page(request: HttpRequest, pk: int, code: str, *, scope: Scope) -> HttpResponse:
    exam = _exam(scope, pk)
    unit = scope.resolve_unit(code)  # another subtree's unit: 404
    exam_refresh_for_read(exam=exam)
    context = {
        "exam": exam,
        "unit": unit,
        "rows": not_sat_rows(scope=scope, exam=exam, unit=unit),
        "makeup": makeup_figures(exam=exam, unit=unit),
        "units": picker_units(scope) if scope.everywhere else None,
        "show_phone": scope.sees_personal_data,
    }
    return render_page(request, scope, "web/exams/not_sat.html", context, section="exams")


@page(scoping.NOT_SAT_READ)
@require_GET
def not_sat_download(request: HttpRequest, pk: int, code: str, *, scope: Scope) -> HttpResponse:
    exam = _exam(scope, pk)
    unit = scope.resolve_unit(code)
    exam_refresh_for_read(exam=exam)
    rows = not_sat_rows(scope=scope, exam=exam, unit=unit)
    audit_record(
        user=request.user, action=AuditAction.EXPORT, target=f"exam:{exam.pk}:not_sat:{unit.code}",
        reason=str(_("网页下载未参考人员名单")), rows=len(rows), address=client_address(request),
    )
    data = exports.as_xlsx(rows, title=_("%(unit)s未参考人员") % {"unit": unit.name})
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = _("未参考人员-%(year)s-%(exam)s-%(unit)s.xlsx") % {"year": exam.year, "exam": exam.pk, "unit": unit.code}
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response

