"""The annual report of one unit's subtree (what a unit liaison downloads): every figure
counts the subtree only, as the per-unit figures define it, on the hand-checked district of
tests/reports/conftest.py."""

from __future__ import annotations

import io
import json

import pytest
from docx import Document
from openpyxl import load_workbook

from exams.selectors import exam_stats
from reports.annual import annual_report_build, annual_report_render
from reports.selectors import court_observation_figures
from training.selectors import training_stats

pytestmark = pytest.mark.django_db

FIGURES = {"candidates", "exempt", "expected", "sat", "not_sat", "passed", "failed", "participation_rate", "pass_rate",
           "average_score"}


def test_the_subtree_report_has_the_districts_keys_and_its_unit(district):
    report = annual_report_build(year=district.year, root=district.units["T"])
    assert set(report) == {"year", "staff", "exams", "training", "certificates", "narrative", "unit"}
    assert report["unit"] == {"code": "T", "name": "测试镇"}
    json.dumps(report)


def test_a_towns_report_counts_the_town_and_its_sub_units(district):
    town = district.units["T"]
    report = annual_report_build(year=district.year, root=town)
    # active staff: 0201 in the town itself, 0211 and 0212 in T1
    assert report["staff"]["active"] == 3
    assert report["staff"]["by_unit_kind"] == {"town": 1, "other": 2}
    (exam,) = report["exams"]
    assert {k: exam[k] for k in FIGURES} == exam_stats(exam=district.exam, unit=town)
    assert (exam["expected"], exam["sat"], exam["passed"]) == (3, 2, 2)
    # "top-level units" are the town's own sub-units; the town's own people count under its kind
    assert [(u["unit_code"], u["candidates"], u["sat"]) for u in exam["by_unit"]] == [("T1", 2, 1)]
    assert {k: (f["expected"], f["sat"]) for k, f in exam["by_unit_kind"].items()} == {"town": (1, 1), "other": (2, 1)}
    stats = training_stats(year=district.year, unit=town)
    assert report["training"] == {
        "events": 1, "by_kind": {"court_observation": 1}, "attendances": 1, "staff_trained": 1, "person_hours": 3,
        "court_observation": {"events": 1, "head_attendances": 0},
    }
    assert report["training"]["attendances"] == stats["attendances"]


def test_a_leaf_units_report_lists_the_unit_itself(district):
    report = annual_report_build(year=district.year, root=district.units["A"])
    (exam,) = report["exams"]
    assert [(u["unit_code"], u["candidates"], u["sat"]) for u in exam["by_unit"]] == [("A", 4, 2)]
    assert list(exam["by_unit_kind"]) == ["department"]
    assert exam["by_unit_kind"]["department"]["candidates"] == 4 == exam["candidates"]
    assert report["training"]["court_observation"] == {"events": 1, "head_attendances": 1}  # 0001, a head


def test_the_roots_subtree_report_is_the_district_report(district):
    """Every event of the year was attended from the district, so nothing differs but the unit."""
    whole = annual_report_build(year=district.year)
    rooted = annual_report_build(year=district.year, root=district.units["D"])
    assert rooted.pop("unit") == {"code": "D", "name": "测试区"}
    assert rooted == whole


def test_court_observation_figures_of_a_subtree(district):
    assert court_observation_figures(year=district.year, unit=district.units["A"]) == {"events": 1,
                                                                                      "head_attendances": 1}
    assert court_observation_figures(year=district.year, unit=district.units["B"]) == {"events": 0,
                                                                                      "head_attendances": 0}
    assert court_observation_figures(year=district.year) == {"events": 1, "head_attendances": 1}


def test_the_files_of_a_subtree_report_name_the_unit(district):
    report = annual_report_build(year=district.year, root=district.units["T"])
    document = Document(io.BytesIO(annual_report_render(report=report, format="docx")))
    assert document.paragraphs[0].text == f"测试镇{district.year}年度学法用法考试和法治培训情况"
    workbook = load_workbook(io.BytesIO(annual_report_render(report=report, format="xlsx")))
    rows = [[c.value for c in row] for row in workbook["概况"].iter_rows()]
    assert rows[-1] == ["统计范围", "测试镇及其下属单位"]
    assert annual_report_render(report=report, format="png").startswith(b"\x89PNG")


def test_the_district_report_files_are_unchanged(district):
    report = annual_report_build(year=district.year)
    document = Document(io.BytesIO(annual_report_render(report=report, format="docx")))
    assert document.paragraphs[0].text == f"{district.year}年度学法用法考试和法治培训情况"
    workbook = load_workbook(io.BytesIO(annual_report_render(report=report, format="xlsx")))
    assert [c.value for c in list(workbook["概况"].iter_rows())[-1]][0] == "情况综述"
