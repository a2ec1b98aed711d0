"""Fencing: a run paused past its lease and taken over must not apply, or write its record,
when it wakes up (issue 21, item 1). On PostgreSQL with real threads and connections."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from config.jobs import JobLost, JobStatus, job_claim, job_fail, job_finish
from reminders.models import ReminderJob
from reports.models import AnnualReport, SnapshotRun
from roster import sync as sync_module
from roster.models import RosterSync, Staff, StaffChange
from roster.sync import roster_sync, roster_sync_create
from sheets.models import ImportKind, ImportRecord
from tests.helpers import Person, csv_bytes, people


def _roster(staff: list[Person], position: str) -> bytes:
    return csv_bytes([Person(p.staff_no, p.name, p.id_number, p.unit, position=position) for p in staff])


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads that see each other's commits: PostgreSQL")
def test_a_run_paused_past_its_lease_is_fenced_off_after_the_takeover_and_a_newer_sync(
    units, settings, monkeypatch, caplog
):
    # a frozen process (SIGSTOP, a VM suspend) stops its heartbeat thread with it: no beats here
    settings.JOB_LEASE_SECONDS = 1
    settings.JOB_HEARTBEAT_SECONDS = 0
    staff = people(20)
    assert roster_sync(sync=roster_sync_create(file=_roster(staff, "科员"), file_name="base.csv")).applied

    # sync A drops two people and changes every position; B (HR's newer file) undoes both
    sync_a = roster_sync_create(file=_roster(staff[:18], "A岗"), file_name="a.csv", allow_mass_deactivation=True)
    paused, resume = threading.Event(), threading.Event()
    real_lock = sync_module.roster_lock
    old_run: list[threading.Thread] = []

    def pausing_lock(**kwargs):
        if threading.current_thread() in old_run and not paused.is_set():
            paused.set()
            assert resume.wait(60)
        real_lock(**kwargs)

    monkeypatch.setattr(sync_module, "roster_lock", pausing_lock)
    outcome: dict = {}

    def stale() -> None:
        try:
            outcome["result"] = roster_sync(sync=RosterSync.objects.get(pk=sync_a.pk))
        finally:
            connections.close_all()

    old_run.append(threading.Thread(target=stale))
    old_run[0].start()
    assert paused.wait(30)
    time.sleep(1.5)  # the lease runs out

    taken_over = roster_sync(sync=RosterSync.objects.get(pk=sync_a.pk))
    assert taken_over.applied and taken_over.deactivated == 2
    newer = roster_sync(sync=roster_sync_create(file=_roster(staff, "B岗"), file_name="b.csv"))
    assert newer.applied and newer.reactivated == 2
    record_before = RosterSync.objects.filter(pk=sync_a.pk).values().get()
    history_before = StaffChange.objects.count()

    with caplog.at_level(logging.WARNING, logger="config.jobs"):
        resume.set()
        old_run[0].join(60)
    assert not old_run[0].is_alive()

    # the newest roster stands: everyone active, every position B's
    assert Staff.objects.filter(is_active=True).count() == 20
    assert set(Staff.objects.values_list("position", flat=True)) == {"B岗"}
    # sync A's record is the takeover's, untouched by the stale run; no duplicate history
    record_after = RosterSync.objects.filter(pk=sync_a.pk).values().get()
    assert record_after == record_before
    assert record_after["attempts"] == 2 and record_after["status"] == JobStatus.SUCCEEDED
    assert StaffChange.objects.count() == history_before
    assert "was taken over" in caplog.text
    assert outcome["result"].status == JobStatus.SUCCEEDED  # it reports the record as stored


def _jobs() -> list:
    now = timezone.now()
    return [
        RosterSync.objects.create(file_name="r.csv", sha256="0" * 64),
        ImportRecord.objects.create(kind=ImportKind.EXAM_RESULTS, file_name="r.csv", sha256="0" * 64),
        ImportRecord.objects.create(kind=ImportKind.ATTENDANCE, file_name="s.csv", sha256="0" * 64),
        SnapshotRun.objects.create(created_at=now, not_before=now),
        AnnualReport.objects.create(year=2024),
        ReminderJob.objects.create(),
    ]


@pytest.mark.django_db
def test_every_job_kind_fences_the_finish_and_the_failure_of_a_stale_attempt(settings):
    for job in _jobs():
        model = type(job)
        first = job_claim(model=model, pk=job.pk)
        assert first == 1
        stale = model.objects.get(pk=job.pk)
        # the lease ran out: a second claim takes the job, with the next token
        model.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
        assert job_claim(model=model, pk=job.pk) == 2
        assert job_claim(model=model, pk=job.pk) is None  # live lease: nobody else
        stale.status, stale.message = JobStatus.SUCCEEDED, "stale"
        with pytest.raises(JobLost):
            job_finish(job=stale)
        assert not job_fail(job=stale, message="stale")
        row = model.objects.get(pk=job.pk)
        assert (row.status, row.attempts, row.message) == (JobStatus.RUNNING, 2, ""), model.__name__
        current = model.objects.get(pk=job.pk)
        current.status, current.message = JobStatus.SUCCEEDED, "done"
        job_finish(job=current)
        row = model.objects.get(pk=job.pk)
        assert (row.status, row.attempts, row.message) == (JobStatus.SUCCEEDED, 2, "done"), model.__name__
