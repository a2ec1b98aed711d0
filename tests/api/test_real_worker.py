"""End to end with a real Celery worker (prefork, one child) against Redis and PostgreSQL.

Skipped unless DATABASE_URL is PostgreSQL and CELERY_BROKER_URL is set. The worker runs in a
subprocess on the test database; the tests commit their data (transactional_db)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from config.jobs import JobStatus, jobs_redispatch_stale
from roster.models import RosterSync, Staff, StaffChange
from roster.sync import roster_sync_create
from tests.helpers import Person, csv_bytes, make_units, new_id, own_queues, people, queue_env, worker_queue_arg

pytestmark = [pytest.mark.worker, pytest.mark.postgres]

LEASE_SECONDS = 4


def _needs_real_services() -> None:
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL:
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL)")


def _database_url() -> str:
    d = connection.settings_dict
    auth = d["USER"] + (f":{d['PASSWORD']}" if d.get("PASSWORD") else "")
    return f"postgres://{auth}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(p) for p in text.split()]


class Worker:
    def __init__(self, tmp_path: Path, prefix: str) -> None:
        self.log = tmp_path / "worker.log"
        env = {
            **os.environ,
            **queue_env(prefix),
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "PRIVATE_UPLOAD_ROOT": str(settings.MEDIA_ROOT),
            "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
            "DJANGO_ENV": "development",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "1", "--loglevel=INFO",
             "-Q", worker_queue_arg(prefix),
             "-n", f"apitest-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=settings.BASE_DIR, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while "ready." not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("worker did not start:\n" + self.log.read_text()[-3000:])
            time.sleep(0.2)

    def pool_child(self) -> int:
        children = _children(self.process.pid)
        assert children, "the worker has no pool child"
        return children[0]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def worker(transactional_db, tmp_path, settings):
    _needs_real_services()

    settings.MEDIA_ROOT = str(tmp_path / "uploads")
    with own_queues() as prefix:  # this test's queues: no messages left by other tests
        started = Worker(tmp_path, prefix)
        yield started
        started.stop()


def wait_for(sync_id: int, statuses: set[str], timeout: float) -> RosterSync:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sync = RosterSync.objects.get(pk=sync_id)
        if sync.status in statuses:
            return sync
        time.sleep(0.1)
    raise AssertionError(f"sync {sync_id} still {RosterSync.objects.get(pk=sync_id).status}")


def test_roster_sync_through_the_api_runs_on_a_real_worker(worker):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from access.services import user_role_set

    make_units()
    role, _ = user_role_set(username="hr", role="hr")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=role.user).key}")
    staff = people(25, "A") + people(5, "T1", start=500)
    upload = SimpleUploadedFile("roster.csv", csv_bytes(staff), content_type="text/csv")
    started = time.monotonic()
    response = client.post("/api/v1/roster/syncs/", {"file": upload}, format="multipart")
    assert response.status_code == 202 and time.monotonic() - started < 5
    sync = wait_for(response.json()["id"], {"succeeded", "refused", "failed"}, timeout=60)
    body = client.get(f"/api/v1/roster/syncs/{sync.pk}/").json()
    assert body["status"] == "succeeded", body
    assert body["counts"]["created"] == 30 and body["progress"] == {"done": 30, "total": 30}
    assert Staff.objects.count() == 30


def test_sweeper_sends_a_lost_sync_to_the_real_worker(worker):
    make_units()
    sync = roster_sync_create(file=csv_bytes(people(4)), file_name="lost.csv")  # never enqueued
    RosterSync.objects.filter(pk=sync.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10))
    assert jobs_redispatch_stale()["roster_sync"] == 1
    assert wait_for(sync.pk, {"succeeded", "refused", "failed"}, timeout=60).status == JobStatus.SUCCEEDED
    assert Staff.objects.count() == 4


def _unique_people(n: int) -> list[Person]:
    seen: set[str] = set()
    result = []
    for i in range(n):
        number = new_id()
        while number in seen:
            number = new_id()
        seen.add(number)
        result.append(Person(f"K{i:06d}", f"人员{i}", number, "A", phone=f"139{i:08d}"))
    return result


def test_sync_completes_without_duplicates_when_the_pool_child_is_killed_mid_sync(worker):
    """SIGKILL the pool's child while it runs the sync: reject_on_worker_lost puts the message
    back, the task waits for the dead run's lease to run out, and the sync runs again from
    the start (the killed run's transaction was rolled back) and completes once."""
    from roster.models import SyncSource
    from roster.sync import roster_sync_submit

    make_units()
    staff = _unique_people(60_000)
    sync = roster_sync_submit(file=csv_bytes(staff), file_name="big.csv", mode="full", dry_run=False,
                              skip_invalid=False, allow_mass_deactivation=False, source=SyncSource.API)
    # the file has been read and checked (progress at half-way): the apply transaction is under way
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running = RosterSync.objects.get(pk=sync.pk)
        if running.progress_done > 0 or running.is_finished:
            break
        time.sleep(0.02)
    assert running.status == JobStatus.RUNNING and running.progress_done > 0, "not caught mid-sync"
    victim = worker.pool_child()
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and victim in _children(worker.process.pid):
        time.sleep(0.1)

    done = wait_for(sync.pk, {"succeeded", "refused", "failed"}, timeout=180)
    log = worker.log.read_text()
    assert done.status == JobStatus.SUCCEEDED, (done.message, log[-3000:])
    assert "WorkerLostError" in log or "SIGKILL" in log or "signal 9" in log
    assert done.attempts >= 2
    assert done.created == len(staff)
    assert Staff.objects.count() == len(staff)
    assert Staff.objects.filter(created_by_sync_id=done.pk).count() == len(staff)
    assert not StaffChange.objects.exists()  # a first load writes no history rows, once or twice


def test_results_import_through_the_api_runs_on_a_real_worker(worker):
    """POST exams/{id}/results/ answers 202 at once with the queued record; a real worker runs
    the same import as the command line; imports/{id}/ then shows it done."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from access.services import user_role_set
    from exams.creation import exam_create
    from exams.models import Attempt, Candidate
    from roster.sync import roster_sync
    from sheets.models import ImportRecord
    from tests.api.conftest import RESULT_HEADER, result_rows

    make_units()
    staff = people(20, "A") + people(5, "B", start=100)
    assert roster_sync(sync=roster_sync_create(file=csv_bytes(staff), file_name="roster.csv")).applied
    today = timezone.localdate()
    exam = exam_create(name="学法用法考试", year=today.year, kind="annual_law",
                       opens_on=today - dt.timedelta(days=5), closes_on=today + dt.timedelta(days=5))
    role, _ = user_role_set(username="legal", role="legal_office")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=role.user).key}")
    outsider = Person("X999", "外单位", new_id(), "A")
    rows = result_rows([(p, 60 + i) for i, p in enumerate(staff[:15])] + [(staff[15], "缺考"), (outsider, 88)])
    upload = SimpleUploadedFile("成绩.csv", csv_bytes(rows, header=RESULT_HEADER), content_type="text/csv")
    started = time.monotonic()
    response = client.post(f"/api/v1/exams/{exam.pk}/results/", {"file": upload}, format="multipart")
    assert response.status_code == 202 and time.monotonic() - started < 5
    assert response.json()["status"] == "queued"
    record_id = response.json()["id"]

    deadline = time.monotonic() + 60
    while ImportRecord.objects.get(pk=record_id).status not in ("succeeded", "refused", "failed"):
        assert time.monotonic() < deadline, worker.log.read_text()[-3000:]
        time.sleep(0.1)
    body = client.get(f"/api/v1/imports/{record_id}/").json()
    assert body["status"] == "succeeded", body
    assert body["counts"]["applied"] == 15 and body["counts"]["absent"] == 1 and body["counts"]["unmatched"] == 1
    assert body["progress"] == {"done": 17, "total": 17}
    assert Attempt.objects.filter(exam=exam).count() == 15
    assert Candidate.objects.filter(exam=exam, best_score__isnull=False).count() == 15
    assert not ImportRecord.objects.get(pk=record_id).source_file  # the uploaded file is dropped once done
    stats = client.get(f"/api/v1/exams/{exam.pk}/stats/?unit=A").json()
    assert (stats["expected"], stats["sat"]) == (20, 15)
