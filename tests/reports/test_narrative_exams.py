"""The annual report with more than one law exam in a year: a main exam, its make-up and an
unrelated second sitting. The report folds the make-up into its main exam and shows it beside
it; the narrative never sums across exams and counts the unit kinds once, from the tree."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from exams.creation import exam_create
from exams.models import ExamKind
from exams.selectors import exam_stats
from reports.annual import annual_report_build
from reports.narrative import annual_narrative
from reports.render import render
from roster.models import Unit, UnitKind
from roster.units import units_rebuild_paths
from tests.exams.conftest import district, import_results, result_row, results_file, sync, today
from tests.helpers import Person, new_id

pytestmark = pytest.mark.django_db

FIGURES = {"candidates", "exempt", "expected", "sat", "not_sat", "passed", "failed", "participation_rate", "pass_rate",
           "average_score"}


def window(opens: int, closes: int) -> dict:
    return {"opens_on": today() + dt.timedelta(days=opens), "closes_on": today() + dt.timedelta(days=closes)}


@pytest.fixture
def two_towns(units):
    """The test district with a second town (T2, one person, 0401): 16 staff."""
    Unit.objects.create(code="T2", name="第二镇", parent=units["D"], kind=UnitKind.TOWN, sort_order=3)
    units_rebuild_paths()
    people = [*district(), Person("0401", "二镇一", new_id(), "T2")]
    sync(people)
    return {p.staff_no: p for p in people}


@pytest.fixture
def three_sittings(two_towns):
    """Main law exam: 0001 80, 0002 50, 0201 70, 0401 40 (16 expected, 4 sat, 2 passed); its
    make-up: 0002 75, 0401 65, 0005 50 (3 sat, 2 passed); an unrelated second sitting:
    0001 90, 0006 60, 0401 30 (16 expected, 3 sat, 2 passed)."""
    staff, y = two_towns, today().year
    main = exam_create(name="学法用法考试", year=y, kind=ExamKind.ANNUAL_LAW, **window(-60, -30))
    import_results(main, results_file([result_row(staff[n], s) for n, s in
                                       {"0001": 80, "0002": 50, "0201": 70, "0401": 40}.items()]))
    makeup = exam_create(name="学法用法补考", year=y, kind=ExamKind.ANNUAL_LAW, makeup_of=main, **window(-20, -10))
    import_results(makeup, results_file([result_row(staff[n], s) for n, s in {"0002": 75, "0401": 65, "0005": 50}.items()]))
    second = exam_create(name="学法用法专题考试", year=y, kind=ExamKind.ANNUAL_LAW, **window(-5, 20))
    import_results(second, results_file([result_row(staff[n], s) for n, s in {"0001": 90, "0006": 60, "0401": 30}.items()]))
    return main, makeup, second


def test_the_report_folds_a_makeup_into_its_main_exam_and_shows_it_beside(three_sittings):
    main, makeup, second = three_sittings
    report = annual_report_build(year=main.year)
    assert [e["id"] for e in report["exams"]] == [main.pk, second.pk]  # the make-up is no exam of its own
    first, other = report["exams"]
    assert {k: first[k] for k in FIGURES} == exam_stats(exam=main)
    assert (first["expected"], first["sat"], first["passed"]) == (16, 5, 4)
    assert first["makeup"]["id"] == makeup.pk
    assert {k: first["makeup"][k] for k in FIGURES} == exam_stats(exam=makeup)
    assert (first["makeup"]["sat"], first["makeup"]["passed"]) == (3, 2)
    assert "makeup" not in other and (other["sat"], other["passed"]) == (3, 2)


def test_the_narrative_states_each_sitting_with_its_own_figures_and_counts_towns_once(three_sittings):
    main, _, _ = three_sittings
    narrative = annual_report_build(year=main.year)["narrative"]
    assert narrative.startswith(
        "组织测试区各部门、两镇政府、教育系统参加学法用法考试两次："
        "“学法用法考试”5人参加，参考率31.3%，合格率80%，其中补考3人、合格2人；"
        "“学法用法专题考试”3人参加，参考率18.8%，合格率66.7%"
    ), narrative
    # never the sums: 8 sitters of 32 expected
    assert "四镇政府" not in narrative and "合计8人" not in narrative and "25%" not in narrative


def test_a_single_exam_with_a_makeup_keeps_the_annual_reports_sentence(two_towns):
    staff, y = two_towns, today().year
    main = exam_create(name="学法用法考试", year=y, kind=ExamKind.ANNUAL_LAW, **window(-60, -30))
    import_results(main, results_file([result_row(staff["0001"], 80), result_row(staff["0401"], 40)]))
    makeup = exam_create(name="补考", year=y, kind=ExamKind.ANNUAL_LAW, makeup_of=main, **window(-20, -10))
    import_results(makeup, results_file([result_row(staff["0401"], 70), result_row(staff["0201"], 90)]))
    narrative = annual_report_build(year=y)["narrative"]
    assert narrative.startswith(
        "组织测试区各部门、两镇政府、教育系统合计3人参加学法用法考试，参考率18.8%，合格率100%，其中补考2人、合格2人"
    ), narrative


def test_the_narrative_never_sums_two_unlinked_exams():
    """From the report's numbers alone (the issue's repro): two sittings, towns listed in both."""
    towns = [{"unit_code": "T1", "kind": "town", "candidates": 300}, {"unit_code": "T2", "kind": "town", "candidates": 250}]
    report = {"year": 2024, "training": {}, "exams": [
        {"kind": "annual_law", "name": "学法用法考试", "sat": 2080, "expected": 2400, "passed": 2063, "by_unit": towns},
        {"kind": "annual_law", "name": "学法用法考试（第二次）", "sat": 30, "expected": 2480, "passed": 20,
         "by_unit": towns},
    ]}
    assert annual_narrative(report) == (
        "组织两镇政府参加学法用法考试两次：“学法用法考试”2080人参加，参考率86.7%，合格率99.2%；"
        "“学法用法考试（第二次）”30人参加，参考率1.2%，合格率66.7%。"
    )


def test_the_spreadsheet_and_the_word_report_show_the_makeup_beside_its_main_exam(three_sittings):
    main, makeup, _ = three_sittings
    report = annual_report_build(year=main.year)
    book = load_workbook(io.BytesIO(render(report=report, format="xlsx")), read_only=True)
    names = [row[0] for row in book["考试"].iter_rows(min_row=2, values_only=True)]
    assert names == ["学法用法考试", "学法用法补考（学法用法考试的补考，已计入该考试）", "学法用法专题考试"]

    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(render(report=report, format="docx"))).paragraphs)
    assert "表中数字已计入补考“学法用法补考”" in text and "补考自身应考" in text
