from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from config.jobs import jobs_redispatch_stale
from exams import results
from exams.imports import exam_import_create, exam_import_enqueue, exam_import_run
from exams.models import Attempt
from sheets.models import ImportKind, ImportRecord
from tests.helpers import make_units, own_queues, queue_env, queue_prefix, worker_queue_arg

from .conftest import district, make_exam, result_row, results_file, sync


@pytest.fixture
def eager():
    """Run tasks in this process even when the suite has a broker configured."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.mark.django_db
def test_a_results_import_runs_as_a_task_after_commit(exam, staff, eager, django_capture_on_commit_callbacks):
    record = exam_import_create(
        exam=exam, kind=ImportKind.EXAM_RESULTS, file=results_file([result_row(staff["0001"], 80)]), file_name="r.csv"
    )
    with django_capture_on_commit_callbacks(execute=True):
        exam_import_enqueue(record=record)
        # nothing is sent before the record has committed
        assert ImportRecord.objects.get(pk=record.pk).status == "queued"
    record.refresh_from_db()
    assert record.status == "succeeded" and record.counts["applied"] == 1
    assert Attempt.objects.count() == 1


@pytest.mark.django_db
def test_progress_is_stored_on_the_record_as_rows_done_out_of_total(exam, staff, monkeypatch):
    seen: list[tuple[int, int]] = []
    original = results.job_progress

    def recording(*, job, done, total=None):
        original(job=job, done=done, total=total)
        stored = ImportRecord.objects.get(pk=job.pk)
        seen.append((stored.progress_done, stored.progress_total))

    monkeypatch.setattr(results, "job_progress", recording)
    monkeypatch.setattr(results, "MATCH_CHUNK", 2)
    rows = [result_row(p, 70) for p in list(staff.values())[:5]]
    result = exam_import_run(record=exam_import_create(
        exam=exam, kind=ImportKind.EXAM_RESULTS, file=results_file(rows), file_name="r.csv"
    ))
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert result.applied == 5
    stored = ImportRecord.objects.get(pk=result.import_id)
    assert (stored.progress_done, stored.progress_total) == (5, 5)


@pytest.mark.django_db
def test_a_finished_import_is_not_run_twice(exam, staff):
    record = exam_import_create(
        exam=exam, kind=ImportKind.EXAM_RESULTS, file=results_file([result_row(staff["0001"], 80)]), file_name="r.csv"
    )
    first = exam_import_run(record=record)
    second = exam_import_run(record=ImportRecord.objects.get(pk=record.pk))
    assert first.as_dict() == second.as_dict()
    assert Attempt.objects.count() == 1


@pytest.mark.django_db
def test_the_sweeper_resends_lost_exam_imports_and_leaves_other_imports_alone(exam, staff, eager):
    old = timezone.now() - dt.timedelta(hours=1)
    lost = exam_import_create(
        exam=exam, kind=ImportKind.EXAM_RESULTS, file=results_file([result_row(staff["0001"], 80)]), file_name="r.csv"
    )
    attendance = ImportRecord.objects.create(kind=ImportKind.ATTENDANCE, file_name="签到.csv", sha256="0" * 64)
    ImportRecord.objects.filter(pk__in=[lost.pk, attendance.pk]).update(created_at=old)
    sent = jobs_redispatch_stale()
    assert sent["exam_import"] == 1
    assert ImportRecord.objects.get(pk=lost.pk).status == "succeeded"
    # a sign-in sheet is never sent as an exam import; it runs synchronously, so the sweeper
    # ends a stale one as failed (issue 21: no upload outlives its job)
    assert sent["attendance_import"] == 1
    assert ImportRecord.objects.get(pk=attendance.pk).status == "failed"


def _real_worker_available() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres") and bool(os.environ.get("CELERY_BROKER_URL"))


@pytest.mark.worker
@pytest.mark.skipif(not _real_worker_available(), reason="needs PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL)")
def test_a_real_worker_runs_a_results_import_and_records_progress(transactional_db):
    make_units()
    people = district()
    sync(people)
    exam = make_exam()
    rows = [result_row(p, 60 + i) for i, p in enumerate(people)]
    record = exam_import_create(exam=exam, kind=ImportKind.EXAM_RESULTS, file=results_file(rows), file_name="r.csv")

    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    prefix = queue_prefix()
    env = {**os.environ, "DATABASE_URL": url, "PRIVATE_UPLOAD_ROOT": str(settings.PRIVATE_UPLOAD_ROOT),
           **queue_env(prefix)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "1", "--loglevel=WARNING",
         "-Q", worker_queue_arg(prefix), "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        with own_queues(prefix):
            exam_import_enqueue(record=record)  # autocommit here: published at once
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            record.refresh_from_db()
            if record.is_finished:
                break
            time.sleep(0.3)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert record.status == "succeeded", record.message
    assert record.counts["applied"] == 15
    assert (record.progress_done, record.progress_total) == (15, 15)
    assert Attempt.objects.filter(exam=exam).count() == 15
