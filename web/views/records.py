"""A person's learning record (个人学法档案): legal_office for anyone, a liaison for the people
now in their subtree, the staff role for itself. The page shows ``records.selectors.staff_record``
(the API's JSON), prints as a clean A4 record, and downloads as docx or xlsx (audited)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from access import scoping
from access.scoping import Scope
from api.views import client_address
from config.errors import DomainError
from records.exports import CONTENT_TYPES, record_file_name, staff_record_export
from records.render import attendance_label, exam_kind_label, exam_result, training_kind_label
from records.selectors import staff_record
from reports.annual import year_check

from .base import page, render_page


def _year(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return year_check(value)
    except DomainError:
        raise Http404("年度应在 2000 到 2100 之间。")


@page(scoping.RECORDS_READ)
@require_GET
def staff_record_page(request: HttpRequest, staff_no: str, *, scope: Scope) -> HttpResponse:
    # someone else (the staff role), or outside a liaison's subtree: 404, as an unknown 工号
    staff = scope.get(scope.record_staff(), staff_no=staff_no)
    year = _year(request.GET.get("year"))
    record = staff_record(staff=staff, year=year)
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in CONTENT_TYPES:
            raise Http404("格式应为 docx 或 xlsx。")
        data = staff_record_export(record=record, year=year, format=fmt, user=request.user,
                                   address=client_address(request), reason=f"网页下载个人学法档案（{fmt}）")
        response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = content_disposition_header(
            True, record_file_name(record=record, year=year, format=fmt)
        )
        return response
    years = [
        {
            **entry,
            "attendances": [
                {**a, "kind_label": training_kind_label(a["kind"]), "status_label": attendance_label(a["status"])}
                for a in entry["attendances"]
            ],
            "exams": [
                {**e, "kind_label": exam_kind_label(e["kind"]), "result": exam_result(e).split(" ")[0]}
                for e in entry["exams"]
            ],
        }
        for entry in record["years"]
    ]
    context = {"record": record, "years": years, "year": year, "own": scope.is_self}
    return render_page(request, scope, "web/records/record.html", context, section="record" if scope.is_self else "")


@page(scoping.RECORD_SELF)
@require_GET
def my_record(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    """The staff role's home: its own record."""
    return redirect("web:staff_record", staff_no=scope.person.staff_no)
