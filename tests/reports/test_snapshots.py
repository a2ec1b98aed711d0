"""Stored snapshots equal the live definitions for every unit and scope; the latest and the
trend selectors read them in a fixed number of queries; the computation does not loop over
units."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from exams.selectors import exam_stats, exam_stats_by_unit
from reports.models import ExamSnapshot, SnapshotRun, TrainingSnapshot
from reports.selectors import EXAM_FIGURES, participation_latest, participation_trend
from reports.snapshots import snapshots_refresh
from roster.models import Unit
from roster.units import units_rebuild_paths
from training.selectors import attended_in_year, hours_below, training_stats

pytestmark = pytest.mark.django_db


def exam_snapshot_figures(snap: ExamSnapshot) -> dict:
    return {k: getattr(snap, k) for k in EXAM_FIGURES}


def assert_exam_snapshots_equal_live(run: SnapshotRun, exam) -> int:
    stored = {(s.unit_id, s.rollup): s for s in ExamSnapshot.objects.filter(run=run, exam=exam)}
    compared = 0
    for rollup in (False, True):
        live_rows = exam_stats_by_unit(exam=exam, rollup=rollup)
        assert {row["unit_id"] for row in live_rows} == {u for u, r in stored if r == rollup}
        for row in live_rows:
            snap = stored[(row["unit_id"], rollup)]
            assert exam_snapshot_figures(snap) == {k: row[k] for k in EXAM_FIGURES}, (row["unit_code"], rollup)
            if rollup:
                unit = Unit.objects.get(pk=row["unit_id"])
                assert exam_snapshot_figures(snap) == exam_stats(exam=exam, unit=unit), row["unit_code"]
            compared += 1
    return compared


def assert_training_snapshots_equal_live(run: SnapshotRun, year: int) -> int:
    stored = {(s.unit_id, s.rollup): s for s in TrainingSnapshot.objects.filter(run=run, year=year)}
    units = Unit.objects.filter(pk__in={u for u, _ in stored})
    compared = 0
    for unit in units:
        rolled, alone = stored[(unit.pk, True)], stored[(unit.pk, False)]
        live = training_stats(year=year, unit=unit)
        assert (rolled.attendances, rolled.staff_trained, rolled.person_hours) == (
            live["attendances"], live["staff_trained"], live["person_hours"]
        ), unit.code
        assert rolled.staff_below_hours == hours_below(year=year, unit=unit).count(), unit.code
        own = attended_in_year(year=year).filter(unit=unit).aggregate(
            n=Count("id"), people=Count("staff_id", distinct=True), hours=Sum("event__hours")
        )
        assert (alone.attendances, alone.staff_trained, alone.person_hours) == (
            own["n"], own["people"], own["hours"] or Decimal(0)
        ), unit.code
        assert alone.staff_below_hours == hours_below(year=year).filter(unit=unit).count(), unit.code
        compared += 2
    return compared


def test_snapshot_equals_live_for_every_unit_and_scope(district):
    run = snapshots_refresh(everything=True)
    assert run.exams == [district.exam.pk] and district.year in run.years
    assert assert_exam_snapshots_equal_live(run, district.exam) == 14
    assert assert_training_snapshots_equal_live(run, district.year) == 14


def test_the_demo_computes_snapshots_equal_to_live(db):
    """The demo: 2,085 staff in 35 units, three exams (one closed), two years of training;
    ``seed_demo`` computes the first snapshots and says so."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if line.startswith("统计快照"))
    assert "3 个考试、2 个培训年度" in line and "参考率最低的是" in line
    run = SnapshotRun.objects.filter(trigger="manual").latest("id")
    assert len(run.exams) == 3 and len(run.years) == 2
    for exam_id in run.exams:
        from exams.models import Exam

        assert assert_exam_snapshots_equal_live(run, Exam.objects.get(pk=exam_id)) == 70
    for year in run.years:
        assert assert_training_snapshots_equal_live(run, year) == 70


def test_an_inactive_unit_is_kept_only_where_something_was_counted_below_it(district):
    Unit.objects.filter(pk=district.units["E"].pk).update(is_active=False)
    Unit.objects.filter(pk=district.units["B"].pk).update(is_active=False)
    empty = Unit.objects.create(code="Z", name="已撤销单位", parent=district.units["D"], is_active=False)
    units_rebuild_paths()
    run = snapshots_refresh(exam_ids=[district.exam.pk])
    codes = set(ExamSnapshot.objects.filter(run=run).values_list("unit__code", flat=True))
    assert {"E", "B"} <= codes and empty.code not in codes
    assert_exam_snapshots_equal_live(run, district.exam)


def test_the_computation_runs_a_fixed_number_of_queries_whatever_the_number_of_units(district):
    """Reads are a fixed number; writes are bulk inserts (SQLite caps a statement at 999
    parameters, so its batches are smaller)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def refresh_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            run = snapshots_refresh(exam_ids=[district.exam.pk], years=[district.year])
        inserts = [q for q in captured if q["sql"].startswith("INSERT INTO \"reports_")]
        return len(captured) - len(inserts), run.rows

    reads, rows = refresh_queries()
    parent = district.units["T"]
    Unit.objects.bulk_create([Unit(code=f"N{i}", name=f"新设单位{i}", parent=parent) for i in range(60)])
    units_rebuild_paths()
    more_reads, more_rows = refresh_queries()
    assert more_reads == reads
    assert more_rows == rows + 60 * 4


def test_latest_reads_the_newest_snapshot_only_in_two_queries(district, django_assert_num_queries):
    first = snapshots_refresh(exam_ids=[district.exam.pk], years=[district.year])
    second = snapshots_refresh(exam_ids=[district.exam.pk], years=[district.year])
    with django_assert_num_queries(2):
        rows = participation_latest(year=district.year)
    assert {r["computed_at"] for r in rows} == {second.computed_at}
    assert first.computed_at < second.computed_at
    exam_rows = [r for r in rows if r["scope"] == "exam"]
    training_rows = [r for r in rows if r["scope"] == "training"]
    assert len(exam_rows) == len(training_rows) == 7
    root = next(r for r in exam_rows if r["unit_code"] == "D")
    assert (root["sat"], root["expected"], root["rollup"], root["exam_id"]) == (8, 9, True, district.exam.pk)
    assert set(root) >= {"scope", "exam_id", "exam_name", "year", "unit_id", "unit_code", "unit_name", "unit_kind",
                         "parent_id", "depth", "rollup", "computed_at", *EXAM_FIGURES}


def test_latest_for_one_exam_and_one_subtree_alone(district, django_assert_num_queries):
    snapshots_refresh(exam_ids=[district.exam.pk], years=[district.year])
    with django_assert_num_queries(1):
        rows = participation_latest(exam=district.exam, unit=district.units["T"], rollup=False)
    assert [(r["unit_code"], r["sat"], r["not_sat"]) for r in rows] == [("T", 1, 0), ("T1", 1, 1)]
    training = participation_latest(year=district.year, unit=district.units["B"], rollup=True)
    assert [(r["scope"], r["unit_code"]) for r in training] == [("exam", "B"), ("training", "B")]
    assert (training[1]["attendances"], training[1]["staff_trained"], training[1]["staff_below_hours"]) == (3, 2, 2)


def test_trend_gives_one_point_per_run_oldest_first(district, django_assert_num_queries):
    from tests.exams.conftest import import_results, result_row, results_file

    snapshots_refresh(exam_ids=[district.exam.pk])
    import_results(district.exam, results_file([result_row(district.people["0212"], 61)]))
    snapshots_refresh(exam_ids=[district.exam.pk])
    with django_assert_num_queries(1):
        points = participation_trend(exam=district.exam, unit=district.units["T1"])
    assert [(p["sat"], p["not_sat"]) for p in points] == [(1, 1), (2, 0)]
    assert points[0]["computed_at"] < points[1]["computed_at"]
    later = participation_trend(exam=district.exam, unit=district.units["T1"],
                                since=points[1]["computed_at"] - dt.timedelta(microseconds=1))
    assert len(later) == 1
    years = participation_trend(year=district.year, unit=district.units["D"])
    assert years == []
