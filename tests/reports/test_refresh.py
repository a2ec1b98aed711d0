"""Recomputing the snapshots: debounced after changes (ten imports in a minute cause one
recomputation), at once where Celery is eager, on the beat schedule, re-sent by the sweeper,
and with a real worker."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.test import override_settings
from django.utils import timezone

from config.celery import app as celery_app
from config.events import EXAM, TRAINING, figures_changed_signal
from config.jobs import jobs_redispatch_stale
from reports import snapshots
from reports.models import ExamSnapshot, RequestKind, SnapshotRequest, SnapshotRun, TrainingSnapshot
from reports.selectors import participation_latest
from reports.snapshots import snapshot_refresh_request, snapshot_run_execute, snapshot_scope, snapshots_refresh
from reports.tasks import refresh_snapshots, refresh_snapshots_scheduled
from tests.conftest import requires_real_services
from tests.exams.conftest import import_results, make_exam, result_row, results_file
from tests.exams.conftest import sync as roster_sync_people
from tests.helpers import make_units

from .conftest import attend, hand_people
from .test_snapshots import assert_exam_snapshots_equal_live, assert_training_snapshots_equal_live


@pytest.mark.django_db
@override_settings(REPORTS_REFRESH_DEBOUNCE_SECONDS=60)
def test_ten_changes_in_a_minute_make_one_run_that_takes_them_all(district):
    before = timezone.now()
    queued = [snapshot_refresh_request(kind=EXAM, exam_id=district.exam.pk, year=district.year) for _ in range(10)]
    assert queued[0] is not None and queued[1:] == [None] * 9
    run = queued[0]
    assert SnapshotRun.objects.filter(status="queued").count() == 1
    assert 59 <= (run.not_before - before).total_seconds() <= 61
    assert SnapshotRequest.objects.count() == 10

    done = snapshot_run_execute(run=run)
    assert (done.status, done.requests, done.exams, done.years) == ("succeeded", 10, [district.exam.pk], [])
    assert SnapshotRequest.objects.count() == 0
    assert SnapshotRun.objects.count() == 1
    # a change once the run has started waits for a new run
    assert snapshot_refresh_request(kind=TRAINING, year=district.year) is not None
    assert SnapshotRun.objects.filter(status="queued").count() == 1


@pytest.mark.django_db
@override_settings(REPORTS_REFRESH_DEBOUNCE_SECONDS=60)
def test_with_a_broker_ten_signals_send_one_task_to_start_after_the_delay(district, monkeypatch,
                                                                           django_capture_on_commit_callbacks):
    """Pure dispatch logic: the task is recorded instead of sent (a real broker is tested below)."""
    sent: list[tuple[tuple, float]] = []
    monkeypatch.setattr(refresh_snapshots, "apply_async", lambda args, countdown=0: sent.append((args, countdown)))
    celery_app.conf.task_always_eager = False  # as with a broker (the autouse fixture restores it)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(10):
            figures_changed_signal.send(sender=EXAM, kind=EXAM, exam_id=district.exam.pk, year=district.year)
    run = SnapshotRun.objects.get()
    assert len(sent) == 1 and sent[0][0] == (run.pk,) and 58 <= sent[0][1] <= 60
    assert run.status == "queued" and SnapshotRequest.objects.count() == 10


@pytest.mark.django_db
def test_a_run_delivered_before_its_time_waits(district, monkeypatch):
    run = snapshot_refresh_request(kind=EXAM, exam_id=district.exam.pk, delay_seconds=60)
    retried: list[float] = []

    class Retry(Exception):
        pass

    def retry(countdown=None, **kwargs):
        retried.append(countdown)
        return Retry()

    monkeypatch.setattr(refresh_snapshots, "retry", retry)
    with pytest.raises(Retry):
        refresh_snapshots.run(run.pk)
    assert retried and 58 <= retried[0] <= 60
    assert SnapshotRun.objects.get(pk=run.pk).status == "queued"


@pytest.mark.django_db
def test_eager_celery_refreshes_at_the_end_of_a_results_import(district, django_capture_on_commit_callbacks):
    snapshots_refresh(everything=True)
    runs_before = SnapshotRun.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = import_results(district.exam, results_file([result_row(district.people["0212"], 59)]))
    assert outcome.applied == 1
    run = SnapshotRun.objects.latest("id")
    assert SnapshotRun.objects.count() == runs_before + 1
    assert (run.trigger, run.status, run.exams, run.requests) == ("change", "succeeded", [district.exam.pk], 1)
    t1 = next(r for r in participation_latest(exam=district.exam, rollup=False) if r["unit_code"] == "T1")
    assert (t1["sat"], t1["not_sat"], t1["failed"]) == (2, 0, 1)
    assert_exam_snapshots_equal_live(run, district.exam)


@pytest.mark.django_db
def test_eager_celery_refreshes_after_attendance_and_after_a_roster_sync(district, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attend(district.events["L2"], ["0301"])
    run = SnapshotRun.objects.latest("id")
    assert (run.status, run.years, run.exams) == ("succeeded", [district.year], [])
    assert_training_snapshots_equal_live(run, district.year)

    people = [p for p in hand_people() if p.staff_no not in ("0004", "0005")]
    for person in people:
        person.id_number = district.people[person.staff_no].id_number
        person.unit = district.people[person.staff_no].unit
    mover = next(p for p in people if p.staff_no == "0302")
    mover.unit = "T1"
    with django_capture_on_commit_callbacks(execute=True):
        roster_sync_people(people, allow_mass_deactivation=True)
    latest = participation_latest(exam=district.exam, rollup=False)
    assert next(r for r in latest if r["unit_code"] == "T1")["candidates"] == 3
    # the roster change (open exams and this year's training), then the exam's own change
    # announced by the open-exam refresh: with eager Celery each is refreshed as it comes
    after = list(SnapshotRun.objects.filter(pk__gt=run.pk).order_by("id"))
    assert all(r.status == "succeeded" for r in after)
    roster_run = next(r for r in after if r.years)
    assert (roster_run.exams, roster_run.years) == ([district.exam.pk], [district.year])
    assert_exam_snapshots_equal_live(after[-1], district.exam)
    assert_training_snapshots_equal_live(roster_run, district.year)


@pytest.mark.django_db
def test_what_a_run_recomputes_for_each_kind_of_change(district):
    closed = make_exam(opens=-60, closes=-30, name="已结束的考试")
    today = timezone.localdate()
    assert snapshot_scope(requests=[(RequestKind.EXAM, closed.pk, closed.year)]).exam_ids == [closed.pk]
    assert snapshot_scope(requests=[(RequestKind.TRAINING, None, 2023)]).years == [2023]
    roster = snapshot_scope(requests=[(RequestKind.ROSTER, None, None)])
    assert (roster.exam_ids, roster.years) == ([district.exam.pk], [today.year])
    schedule = snapshot_scope(requests=[(RequestKind.SCHEDULE, None, None)])
    assert schedule.exam_ids == sorted([district.exam.pk, closed.pk])  # the closed one has no snapshot yet
    snapshots_refresh(exam_ids=[closed.pk])
    assert snapshot_scope(requests=[(RequestKind.SCHEDULE, None, None)]).exam_ids == [district.exam.pk]
    everything = snapshot_scope(requests=[(RequestKind.FULL, None, None)])
    assert everything.exam_ids == sorted([district.exam.pk, closed.pk]) and everything.years == [today.year]


@pytest.mark.django_db
def test_the_beat_task_refreshes_open_exams_and_this_years_training(district, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        refresh_snapshots_scheduled.delay()
    run = SnapshotRun.objects.get()
    assert (run.trigger, run.status, run.exams, run.years) == ("schedule", "succeeded", [district.exam.pk], [district.year])
    assert ExamSnapshot.objects.filter(run=run).count() == 14 and TrainingSnapshot.objects.filter(run=run).count() == 14


def test_the_beat_schedule_runs_the_refresh_hourly_by_default():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["reports-snapshots-refresh"]
    assert entry["task"] == refresh_snapshots_scheduled.name
    assert entry["schedule"] == float(settings.REPORTS_SNAPSHOT_SCHEDULE_SECONDS) == 3600.0


@pytest.mark.django_db
def test_the_sweeper_resends_a_queued_run_whose_message_was_lost(district):
    run = snapshot_refresh_request(kind=EXAM, exam_id=district.exam.pk, delay_seconds=60)
    SnapshotRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10),
                                                 not_before=timezone.now() - dt.timedelta(minutes=9))
    assert jobs_redispatch_stale()["snapshot_refresh"] == 1
    assert SnapshotRun.objects.get(pk=run.pk).status == "succeeded"
    assert SnapshotRequest.objects.count() == 0


@pytest.mark.django_db
def test_a_failed_run_keeps_the_changes_for_the_next_one(district, monkeypatch):
    run = snapshot_refresh_request(kind=EXAM, exam_id=district.exam.pk, delay_seconds=0)

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(snapshots, "snapshots_write", broken)
    failed = snapshot_run_execute(run=run)
    assert failed.status == "failed" and "内部错误" in failed.message
    assert SnapshotRequest.objects.count() == 1 and not ExamSnapshot.objects.exists()
    monkeypatch.undo()
    again = snapshot_refresh_request(kind=TRAINING, year=district.year, delay_seconds=0)
    done = snapshot_run_execute(run=again)
    assert (done.status, done.requests, done.exams, done.years) == ("succeeded", 2, [district.exam.pk], [district.year])


@pytest.mark.django_db
def test_a_refresh_that_cannot_be_queued_never_fails_the_import(district, monkeypatch, django_capture_on_commit_callbacks):
    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(snapshots, "snapshot_refresh_request", broken)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = import_results(district.exam, results_file([result_row(district.people["0212"], 70)]))
    assert outcome.status == "succeeded" and not SnapshotRun.objects.exists()


@pytest.mark.worker
@requires_real_services
@override_settings(REPORTS_REFRESH_DEBOUNCE_SECONDS=8)
def test_a_real_worker_makes_one_recomputation_of_ten_imports(celery_worker_process):
    make_units()
    people = hand_people()
    roster_sync_people(people)
    exam = make_exam()
    SnapshotRun.objects.all().delete()
    SnapshotRequest.objects.all().delete()
    started = time.monotonic()
    for i, person in enumerate(people[:10]):
        outcome = import_results(exam, results_file([result_row(person, 60 + i)]))
        assert outcome.applied == 1
    assert time.monotonic() - started < 8, "the ten imports must land inside the debounce window"
    deadline = time.monotonic() + 60
    run = None
    while time.monotonic() < deadline:
        run = SnapshotRun.objects.order_by("id").first()
        if run is not None and run.is_finished:
            break
        time.sleep(0.3)
    assert run is not None and run.status == "succeeded", run and run.message
    assert SnapshotRun.objects.count() == 1
    assert run.requests == 10 and run.exams == [exam.pk]
    assert SnapshotRequest.objects.count() == 0
    assert_exam_snapshots_equal_live(run, exam)
