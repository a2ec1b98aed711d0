"""「执法证管理」: the counts per unit, the due, expired and left lists with their downloads,
the register import (preview, then confirm); the renewal of an exam's certificates (preview,
then apply). Everything goes through ``certificates`` selectors and services."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from access.scoping import Scope
from api.views import client_address
from audit.models import AuditAction
from audit.services import audit_record
from certificates import capabilities as cert_caps
from certificates import exports
from certificates.imports import certificate_import_create, certificate_import_run
from certificates.models import Certificate
from certificates.renewal import certificates_renew
from certificates.selectors import certificate_entries, certificate_stats, certificates_on
from certificates.state import DUE, EXPIRED, LEFT, STATE_LABELS, window_days
from config.errors import DomainError
from exams.models import Exam, ExamKind
from sheets.models import ImportKind, ImportRecord
from sheets.services import WEB

from ..forms import ImportUploadForm
from .base import page, render_page

LISTS = (DUE, EXPIRED, LEFT)
SHOWN = 200
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _base(scope: Scope):
    return scope.narrow(Certificate.objects.all(), unit_field="staff__unit")


def _page(request: HttpRequest, scope: Scope, form: ImportUploadForm, status: int = 200) -> HttpResponse:
    on = timezone.localdate()
    unit = scope.within(request.GET.get("unit") or None)
    stats = certificate_stats(on=on, unit=unit, base=_base(scope), units=scope.units())
    lists = []
    for state in LISTS:
        qs = certificates_on(on=on, unit=unit, state=state, base=_base(scope))
        lists.append({"state": state, "label": STATE_LABELS[state], "count": qs.count(),
                      "rows": certificate_entries(qs[:SHOWN], on=on)})
    context = {
        "on": on, "unit": unit, "stats": stats, "window": window_days(), "lists": lists, "shown": SHOWN,
        "form": form if scope.can(cert_caps.CERTIFICATES_WRITE) else None,
        "imports": list(scope.imports(ImportRecord.objects.filter(kind=ImportKind.CERTIFICATES)
                                      .select_related("started_by")).order_by("-created_at", "-id")[:20]),
    }
    return render_page(request, scope, "web/certificates/index.html", context, section="certificates", status=status)


@page(cert_caps.CERTIFICATES_READ)
@require_GET
def certificates_page(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    return _page(request, scope, ImportUploadForm(prefix="certs"))


@page(cert_caps.CERTIFICATES_READ)
@require_GET
def certificates_download(request: HttpRequest, state: str, fmt: str, *, scope: Scope) -> HttpResponse:
    if state not in LISTS or fmt not in CONTENT_TYPES:
        raise Http404(_("没有这样的名单。"))
    on = timezone.localdate()
    unit = scope.within(request.GET.get("unit") or None)
    entries = certificate_entries(certificates_on(on=on, unit=unit, state=state, base=_base(scope)), on=on)
    audit_record(user=request.user, action=AuditAction.EXPORT,
                 target=f"certificates:{state}" + (f":{unit.code}" if unit else ""),
                 reason=str(_("网页下载执法证名单")), rows=len(entries), address=client_address(request))
    data = exports.as_xlsx(entries, title=STATE_LABELS[state]) if fmt == "xlsx" else exports.as_csv(entries)
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    name = f"执法证-{STATE_LABELS[state]}-{on.isoformat()}{'-' + unit.code if unit else ''}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@page(cert_caps.CERTIFICATES_WRITE)
@require_POST
def certificates_upload(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    form = ImportUploadForm(request.POST, request.FILES, prefix="certs")
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = certificate_import_create(
                file=upload, file_name=upload.name or "certificates", strict=form.cleaned_data["strict"],
                dry_run=True, started_by=request.user, source=WEB, root=scope.write_root,
            )
            certificate_import_run(record=record)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("web:import", pk=record.pk)
    return _page(request, scope, form, status=400)


@page(cert_caps.CERTIFICATES_WRITE)
def exam_renew(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    """GET: the preview (a dry run); POST: renew, then show what was done."""
    exam = scope.get(scope.exams_managed(Exam.objects.all()), pk=pk)
    if exam.kind != ExamKind.ENFORCEMENT_RENEWAL:
        raise Http404(_("只有执法续职考试可以续期执法证。"))
    applied = request.method == "POST"
    result = certificates_renew(exam=exam, dry_run=not applied, user=request.user)
    if applied:
        messages.success(request, result.message)
    context = {"exam": exam, "result": result, "applied": applied}
    return render_page(request, scope, "web/certificates/renew.html", context, section="exams")
