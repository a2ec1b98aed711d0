"""The annual report (legal_office, viewer): pick a year, read the paragraph and the tables,
download Excel, Word and the chart. Built by the reports app's services, as the API does."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from access import scoping
from access.scoping import Scope
from config.errors import DomainError
from reports.annual import annual_report_build, annual_report_file_name, annual_report_render, year_check
from reports.render import FIGURE_COLUMNS, chart_exam, exam_kind_label, training_rows, unit_kind_label
from reports.selectors import report_years

from ..forms import year_choices
from .base import page, render_page

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "png": "image/png",
}


def _year(value: Any) -> int:
    try:
        return year_check(value)
    except DomainError:
        raise Http404("年度应在 2000 到 2100 之间。")


def _figure_rows(entries: list[dict[str, Any]], name_key: str, label: Any = None) -> list[dict[str, Any]]:
    return [
        {"name": label(entry[name_key]) if label else entry[name_key],
         "figures": [(key, entry.get(key)) for key, _ in FIGURE_COLUMNS]}
        for entry in entries
    ]


@page(scoping.REPORTS_READ)
@require_GET
def annual_report_page(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    year = _year(request.GET.get("year") or timezone.localdate().year)
    report = annual_report_build(year=year)
    exams = [
        {
            "entry": exam,
            "kind": exam_kind_label(exam["kind"]),
            "total": [(key, exam.get(key)) for key, _ in FIGURE_COLUMNS],
            "by_unit": _figure_rows(exam["by_unit"], "unit_name"),
            "by_unit_kind": _figure_rows(
                [{"kind": kind, **figures} for kind, figures in exam["by_unit_kind"].items()], "kind", unit_kind_label
            ),
        }
        for exam in report["exams"]
    ]
    chart = chart_exam(report)
    context = {
        "year": year,
        "years": year_choices([*report_years(), year]),  # years with data, and the one asked for
        "report": report,
        "columns": [label for _, label in FIGURE_COLUMNS],
        "staff_by_kind": [(unit_kind_label(kind), n) for kind, n in report["staff"]["by_unit_kind"].items()],
        "exams": exams,
        "chart": chart["by_unit"] if chart else [],
        "chart_exam": chart,
        "training": training_rows(report),
        "formats": [("xlsx", "Excel 表格"), ("docx", "Word 文档"), ("png", "图表（PNG）")],
    }
    return render_page(request, scope, "web/reports/annual.html", context, section="report")


@page(scoping.REPORTS_READ)
@require_GET
def annual_report_download(request: HttpRequest, year: int, fmt: str, *, scope: Scope) -> HttpResponse:
    if fmt not in CONTENT_TYPES:
        raise Http404("格式应为 xlsx、docx 或 png。")
    year = _year(year)
    try:
        data = annual_report_render(report=annual_report_build(year=year), format=fmt)
    except DomainError as exc:
        # e.g. the server has no CJK font for the chart: back to the report page, which says so
        messages.error(request, exc.message)
        return redirect(f"{reverse('web:annual_report')}?year={year}")
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, annual_report_file_name(year=year, format=fmt))
    return response
