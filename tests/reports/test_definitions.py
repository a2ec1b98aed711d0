"""The per-unit figures, alone and rolled up, on the hand-checked district (see conftest)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reports.models import ExamSnapshot, TrainingSnapshot
from reports.selectors import court_observation_figures, exam_unit_counts, training_unit_counts
from reports.snapshots import snapshots_refresh

pytestmark = pytest.mark.django_db

EXAM_KEYS = ("candidates", "exempt", "expected", "sat", "not_sat", "passed", "failed", "participation_rate", "pass_rate",
             "average_score")

# unit -> (alone, rolled up); each: candidates, exempt, expected, sat, not_sat, passed, failed, participation,
# pass rate, average. 0002 moved to B while the exam was open (candidates follow moves until it closes);
# 0004 left without sitting (not expected), 0005 left after sitting (counts), 0211's retake counts once.
EXAM_BY_HAND = {
    "D": ((0, 0, 0, 0, 0, 0, 0, None, None, None), (11, 1, 9, 8, 1, 7, 1, 8 / 9, 7 / 8, 76.0)),
    "A": ((4, 1, 2, 2, 0, 2, 0, 1.0, 1.0, 85.0), (4, 1, 2, 2, 0, 2, 0, 1.0, 1.0, 85.0)),
    "B": ((2, 0, 2, 2, 0, 2, 0, 1.0, 1.0, 67.5), (2, 0, 2, 2, 0, 2, 0, 1.0, 1.0, 67.5)),
    "T": ((1, 0, 1, 1, 0, 1, 0, 1.0, 1.0, 100.0), (3, 0, 3, 2, 1, 2, 0, 2 / 3, 1.0, 87.5)),
    "T1": ((2, 0, 2, 1, 1, 1, 0, 0.5, 1.0, 75.0), (2, 0, 2, 1, 1, 1, 0, 0.5, 1.0, 75.0)),
    "E": ((0, 0, 0, 0, 0, 0, 0, None, None, None), (2, 0, 2, 2, 0, 1, 1, 1.0, 0.5, 64.0)),
    "S1": ((2, 0, 2, 2, 0, 1, 1, 1.0, 0.5, 64.0), (2, 0, 2, 2, 0, 1, 1, 1.0, 0.5, 64.0)),
}

# unit -> (alone, rolled up); each: attendances, staff_trained, person_hours, staff_below_hours (requirement 5 h).
# Attendance keeps the unit of the day: 0002's L1 counts in A, L2 in B, and 0002 is one person in D.
TRAINING_BY_HAND = {
    "D": ((0, 0, "0", 0), (7, 4, "15", 8)),
    "A": ((3, 2, "7", 1), (3, 2, "7", 1)),
    "B": ((3, 2, "5", 2), (3, 2, "5", 2)),
    "T": ((1, 1, "3", 1), (1, 1, "3", 3)),
    "T1": ((0, 0, "0", 2), (0, 0, "0", 2)),
    "E": ((0, 0, "0", 0), (0, 0, "0", 2)),
    "S1": ((0, 0, "0", 2), (0, 0, "0", 2)),
}


def _exam_tuple(figures: dict) -> tuple:
    return tuple(figures[k] for k in EXAM_KEYS)


def _approx(expected: tuple) -> tuple:
    return tuple(pytest.approx(v) if isinstance(v, float) else v for v in expected)


def test_exam_figures_per_unit_alone_and_rolled_up_match_the_hand_count(district):
    run = snapshots_refresh(exam_ids=[district.exam.pk])
    rows = ExamSnapshot.objects.filter(run=run).select_related("unit")
    seen = {(r.unit.code, r.rollup): _exam_tuple(r.__dict__) for r in rows}
    for code, (alone, rolled) in EXAM_BY_HAND.items():
        assert seen[(code, False)] == _approx(alone), code
        assert seen[(code, True)] == _approx(rolled), code
    assert len(seen) == 2 * len(EXAM_BY_HAND)


def test_training_figures_per_unit_alone_and_rolled_up_match_the_hand_count(district):
    run = snapshots_refresh(years=[district.year])
    rows = TrainingSnapshot.objects.filter(run=run).select_related("unit")
    seen = {(r.unit.code, r.rollup): (r.attendances, r.staff_trained, r.person_hours, r.staff_below_hours) for r in rows}
    for code, (alone, rolled) in TRAINING_BY_HAND.items():
        for rollup, (attendances, trained, hours, below) in ((False, alone), (True, rolled)):
            assert seen[(code, rollup)] == (attendances, trained, Decimal(hours), below), (code, rollup)


def test_a_person_with_attendance_in_two_units_counts_once_in_the_subtree_holding_both(district):
    counts = training_unit_counts(year=district.year)
    a, b, d = (district.units[c].pk for c in ("A", "B", "D"))
    # 0002: once in A (L1), once in B (L2); 0101 in B; 0001 in A; 0201 in T
    assert counts[(a, False)]["staff_trained"] + counts[(b, False)]["staff_trained"] == 4
    assert counts[(d, True)]["staff_trained"] == 4
    assert counts[(d, True)]["attendances"] == 7


def test_a_retake_counts_one_sitting_and_the_best_score(district):
    t1 = district.units["T1"].pk
    counts = exam_unit_counts(exam_ids=[district.exam.pk])[(district.exam.pk, t1, False)]
    assert counts["n_sat"] == 1 and counts["n_passed"] == 1 and counts["n_score_sum"] == Decimal("75.00")


def test_the_exempt_and_the_leaver_who_never_sat_are_not_expected_but_the_leaver_who_sat_is(district):
    a = district.units["A"].pk
    counts = exam_unit_counts(exam_ids=[district.exam.pk])[(district.exam.pk, a, False)]
    # 0001 and 0005 (who left after sitting); not 0003 (exempt) nor 0004 (left, never sat)
    assert (counts["n_candidates"], counts["n_exempt"], counts["n_expected"], counts["n_sat"]) == (4, 1, 2, 2)


def test_court_observation_counts_events_and_attendances_by_unit_heads(district):
    assert court_observation_figures(year=district.year) == {"events": 1, "head_attendances": 1}


def test_units_with_nothing_to_count_appear_with_zeros(district):
    run = snapshots_refresh(exam_ids=[district.exam.pk], years=[district.year])
    e_alone = ExamSnapshot.objects.get(run=run, unit=district.units["E"], rollup=False)
    assert (e_alone.candidates, e_alone.participation_rate, e_alone.average_score) == (0, None, None)
    d_alone = TrainingSnapshot.objects.get(run=run, unit=district.units["D"], rollup=False)
    assert (d_alone.attendances, d_alone.person_hours, d_alone.staff_below_hours) == (0, Decimal("0"), 0)
