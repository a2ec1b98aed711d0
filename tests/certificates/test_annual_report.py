"""The annual report's certificate figures, its sentence on renewals, and its XLSX sheet."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from certificates.renewal import certificates_renew
from exams.creation import exam_create
from exams.models import ExamKind
from reports.annual import annual_report_build, annual_report_render
from roster.models import Staff
from tests.certificates.conftest import add_cert
from tests.exams.conftest import import_results, result_row, results_file


def test_the_report_counts_the_register_as_of_31_december(staff):
    exam = exam_create(name="执法续职考试", year=2025, kind=ExamKind.ENFORCEMENT_RENEWAL,
                       opens_on=dt.date(2025, 11, 1), closes_on=dt.date(2025, 11, 30), today=dt.date(2026, 1, 5))
    add_cert("0201", "桂执0201", expires=dt.date(2025, 12, 1))     # renewed by the exam to 2026-12-01
    add_cert("0202", "桂执0202", expires=dt.date(2025, 12, 30))    # expired on 31 December (not renewed)
    add_cert("0203", "桂执0203", expires=dt.date(2026, 2, 1))      # due on 31 December
    add_cert("0204", "桂执0204", expires=dt.date(2027, 6, 1))      # valid
    Staff.objects.filter(staff_no="0204").update(is_active=False)  # a leaver is no holder
    import_results(exam, results_file([result_row(staff["0201"], 90)]))
    assert certificates_renew(exam=exam).renewed == 1

    report = annual_report_build(year=2025, today=dt.date(2026, 1, 5))
    assert report["certificates"] == {"holders": 3, "renewed": 1, "expired": 1, "due": 1}
    assert report["narrative"].endswith("全年通过执法续职考试续期行政执法证1张；截至12月31日持证3人，待续期1张、已过期1张。")
    sheet = load_workbook(io.BytesIO(annual_report_render(report=report, format="xlsx")))["执法证"]
    rows = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows == {"持证人数": 3, "本年度续期（张）": 1, "已过期（张）": 1, "待续期（张）": 1}

    # the current year: as of today
    now = annual_report_build(year=2026, today=dt.date(2026, 1, 5))
    assert now["certificates"] == {"holders": 3, "renewed": 0, "expired": 1, "due": 1}
    assert "截至1月5日持证3人" in now["narrative"]


def test_an_empty_register_leaves_the_narrative_as_it_was(staff):
    report = annual_report_build(year=2001)
    assert report["certificates"] == {"holders": 0, "renewed": 0, "expired": 0, "due": 0}
    assert report["narrative"] == "2001年度暂无学法用法考试和法治培训记录。"
