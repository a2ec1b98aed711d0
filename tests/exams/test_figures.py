from __future__ import annotations

import pytest

from exams.models import Candidate
from exams.selectors import FIGURES, exam_stats, exam_stats_by_unit
from roster.models import Unit

from .conftest import exemption_row, import_exemptions, import_results, result_row, results_file, sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def marked(exam, staff):
    """15 candidates: 0001 exempt; 0002 left before the window closed without sitting;
    0003 (45) failed; 0004 (60, the pass mark) and 0101 (90) and 0201 (77.5) passed."""
    import_exemptions(exam, [exemption_row(staff["0001"])])
    import_results(exam, results_file([
        result_row(staff["0003"], 45), result_row(staff["0004"], 60), result_row(staff["0101"], 90),
        result_row(staff["0201"], 77.5),
    ]))
    people = [p for no, p in staff.items() if no != "0002"]
    sync(people)
    from exams.enrolment import exams_refresh_open

    exams_refresh_open()
    return exam


def test_figures_follow_their_definitions(marked):
    figures = exam_stats(exam=marked)
    assert figures == {
        "expected": 13,
        "sat": 4,
        "not_sat": 9,
        "passed": 3,
        "failed": 1,
        "participation_rate": 4 / 13,
        "pass_rate": 3 / 4,
        "average_score": (45 + 60 + 90 + 77.5) / 4,
        "candidates": 15,
        "exempt": 1,
    }
    assert list(figures) == list(FIGURES)


def test_rates_are_not_rounded(marked):
    rate = exam_stats(exam=marked)["participation_rate"]
    assert rate == pytest.approx(0.307692307692, abs=1e-12)
    assert len(repr(rate).split(".")[1]) > 4


def test_rates_and_average_are_empty_when_nobody_is_expected_or_sat(exam, staff):
    empty = exam_stats(exam=exam, unit=Unit.objects.get(code="S1"))
    assert (empty["sat"], empty["pass_rate"], empty["average_score"]) == (0, None, None)
    assert empty["participation_rate"] == 0.0
    Candidate.objects.filter(exam=exam, unit__code="S1").update(exempt=True, exempt_reason="x")
    assert exam_stats(exam=exam, unit=Unit.objects.get(code="S1"))["participation_rate"] is None


def test_stats_for_a_unit_cover_its_subtree(marked):
    town = exam_stats(exam=marked, unit=Unit.objects.get(code="T"))
    assert (town["expected"], town["sat"], town["passed"]) == (4, 1, 1)
    root = exam_stats(exam=marked, unit=Unit.objects.get(code="D"))
    assert root == exam_stats(exam=marked)


def test_per_unit_table_lists_every_unit_with_zeros_where_nobody_sat(marked):
    rows = {row["unit_code"]: row for row in exam_stats_by_unit(exam=marked)}
    assert set(rows) == {"D", "A", "B", "T", "T1", "E", "S1"}
    assert (rows["D"]["expected"], rows["D"]["sat"], rows["D"]["pass_rate"]) == (0, 0, None)
    assert (rows["A"]["expected"], rows["A"]["sat"], rows["A"]["failed"]) == (4, 2, 1)
    assert (rows["S1"]["expected"], rows["S1"]["sat"], rows["S1"]["participation_rate"]) == (2, 0, 0.0)


def test_per_unit_rollup_sums_each_subtree(marked):
    rows = {row["unit_code"]: row for row in exam_stats_by_unit(exam=marked, rollup=True)}
    assert rows["D"]["expected"] == 13 and rows["D"]["sat"] == 4
    assert (rows["T"]["expected"], rows["T"]["sat"]) == (4, 1)
    assert rows["D"]["average_score"] == exam_stats(exam=marked)["average_score"]


def test_per_unit_table_under_a_unit_in_tree_order(marked):
    rows = exam_stats_by_unit(exam=marked, root=Unit.objects.get(code="E"), rollup=True)
    assert [r["unit_code"] for r in rows] == ["E", "S1"]
    codes = [r["unit_code"] for r in exam_stats_by_unit(exam=marked)]
    assert codes == ["D", "A", "B", "T", "T1", "E", "S1"]


def test_per_unit_table_takes_two_queries_whatever_the_number_of_units(marked, django_assert_num_queries):
    with django_assert_num_queries(2):
        exam_stats_by_unit(exam=marked, rollup=True)


def test_a_closed_unit_without_candidates_is_left_out(exam, staff):
    Unit.objects.create(code="OLD", name="已撤销单位", parent=Unit.objects.get(code="D"), is_active=False)
    from roster.units import units_rebuild_paths

    units_rebuild_paths()
    assert "OLD" not in [r["unit_code"] for r in exam_stats_by_unit(exam=exam)]


def test_whole_exam_figures_are_one_query(marked, django_assert_num_queries):
    with django_assert_num_queries(1):
        exam_stats(exam=marked)
