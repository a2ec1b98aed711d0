"""Workers that survive the broker: a real Celery worker (prefork) on a Redis of its own
(port 6391) holding an unacknowledged message; that Redis is stopped for 10 s (and, with
RUN_SLOW_TESTS=1, for 60 s) and started again. The same worker process carries on by itself:
the jobs queued after Redis' return, and the one kept queued in the database during the outage
(sent again by the sweeper, as beat does), complete within 2 minutes of the return."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from config.jobs import JOB_KINDS, JobStatus, job_dispatch, jobs_redispatch_stale
from roster.models import RosterSync, Staff, SyncMode
from roster.sync import roster_sync_create
from tests.helpers import csv_bytes, make_units, people, worker_queue_arg

pytestmark = [pytest.mark.worker, pytest.mark.postgres]

REDIS_PORT = int(os.environ.get("TEST_OWN_REDIS_PORT", "6391"))
BROKER = f"redis://127.0.0.1:{REDIS_PORT}/0"
BACK_WITHIN = 120


class OwnRedis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=(self.folder / "redis.log").open("a"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True).stdout.strip() != b"PONG":
            assert self.process.poll() is None and time.monotonic() < deadline, (self.folder / "redis.log").read_text()
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def _database_url() -> str:
    d = connection.settings_dict
    auth = d["USER"] + (f":{d['PASSWORD']}" if d.get("PASSWORD") else "")
    return f"postgres://{auth}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


@pytest.fixture
def own_broker(transactional_db, tmp_path, settings):
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL:
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL)")
    from config.celery import app

    redis = OwnRedis(tmp_path)
    redis.start()
    names = ("broker_url", "broker_write_url", "broker_read_url")
    saved = {name: app.conf[name] for name in names}
    app.conf.update({name: BROKER for name in names})
    app._pool = None
    app.amqp._producer_pool = None
    settings.MEDIA_ROOT = str(tmp_path / "uploads")
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": BROKER,
        "PRIVATE_UPLOAD_ROOT": str(settings.MEDIA_ROOT),
        "DJANGO_ENV": "development",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "1", "--loglevel=INFO",
         "-Q", worker_queue_arg(settings.CELERY_QUEUE_PREFIX),  # every queue: this Redis is the test's own
         "-n", f"redis-blip-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=settings.BASE_DIR, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    yield redis, worker, log
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
    redis.stop()
    app.conf.update(saved)
    app._pool = None
    app.amqp._producer_pool = None


def _sync(n: int, start: int, name: str) -> RosterSync:
    return roster_sync_create(file=csv_bytes(people(n, "A", start=start)), file_name=name, mode=SyncMode.PARTIAL)


def _wait(pks: list[int], timeout: float, log: Path) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = list(RosterSync.objects.filter(pk__in=pks).order_by("pk").values_list("status", flat=True))
        if all(s in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.REFUSED) for s in statuses):
            return statuses
        time.sleep(0.5)
    raise AssertionError(f"not done within {timeout:.0f}s: {statuses}\n{log.read_text()[-4000:]}")


def _outage(own_broker, seconds: float) -> None:
    from config.tasks import redispatch_stale_jobs

    redis, worker, log = own_broker
    make_units()
    first = _sync(3, 1, "before.csv")
    job_dispatch(kind="roster_sync", pk=first.pk)
    assert _wait([first.pk], 60, log) == [JobStatus.SUCCEEDED]
    # the worker holds an unacknowledged message (as the snapshot debounce and the lease-retry
    # countdowns make it do almost always) when Redis goes away
    redispatch_stale_jobs.apply_async(countdown=seconds + 300)
    time.sleep(1.5)
    redis.stop()
    time.sleep(1)
    during = _sync(4, 100, "during.csv")
    job_dispatch(kind="roster_sync", pk=during.pk)  # the broker is down: the record stays queued
    assert RosterSync.objects.get(pk=during.pk).status == JobStatus.QUEUED
    time.sleep(max(seconds - 1, 0))
    assert worker.poll() is None, log.read_text()[-3000:]
    redis.start()
    back = time.monotonic()
    after = _sync(5, 200, "after.csv")
    job_dispatch(kind="roster_sync", pk=after.pk)
    # beat's sweeper sends again what sat queued while the broker was away
    later = timezone.now() + JOB_KINDS["roster_sync"].requeue_after + dt.timedelta(seconds=1)
    assert jobs_redispatch_stale(now=later)["roster_sync"] >= 1
    statuses = _wait([during.pk, after.pk], BACK_WITHIN - (time.monotonic() - back), log)
    assert statuses == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]
    assert time.monotonic() - back < BACK_WITHIN
    assert Staff.objects.filter(is_active=True).count() == 3 + 4 + 5
    assert "Redis unavailable while restoring" in log.read_text()  # the blip was taken with a message held
    text = log.read_text()
    assert worker.poll() is None and "Unrecoverable error" not in text, text[-3000:]


def test_the_worker_carries_on_after_redis_stops_for_10_seconds(own_broker):
    _outage(own_broker, 10)


@pytest.mark.skipif(not os.environ.get("RUN_SLOW_TESTS"), reason="60 s outage: set RUN_SLOW_TESTS=1")
def test_the_worker_carries_on_after_redis_stops_for_60_seconds(own_broker):
    _outage(own_broker, 60)
