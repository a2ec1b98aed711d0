"""Heartbeat recovery with the default lease settings (lease 30 s, heartbeat 10 s, sweeper every
15 s), with a real worker and beat on PostgreSQL and Redis: a re-sync SIGKILLed mid-job, by its
pool child or with the main worker (and a new worker started, as compose restarts it), is
re-run under 60 s after the kill and ends with the roster and history of a clean run.
The steps are those of bench/job_recovery.py, which prints the same figures for a larger roster."""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import ROOT

pytestmark = [pytest.mark.worker, pytest.mark.postgres]

PEOPLE = 10000


def _bench():
    spec = importlib.util.spec_from_file_location("bench_job_recovery", ROOT / "bench" / "job_recovery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def services(transactional_db, tmp_path, settings):
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL:
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL)")
    from config.celery import app

    bench = _bench()
    d = connection.settings_dict
    queue = f"test-recovery-{uuid.uuid4().hex[:6]}"
    settings.MEDIA_ROOT = str(tmp_path / "uploads")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOB_")}  # the default lease settings
    env.update(DATABASE_URL=f"postgres://{d['USER']}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}",
               CELERY_BROKER_URL=settings.CELERY_BROKER_URL, CELERY_TASK_DEFAULT_QUEUE=queue, READYZ_QUEUES=queue,
               CELERY_QUEUE_PREFIX=f"{queue}-",
               PRIVATE_UPLOAD_ROOT=str(settings.MEDIA_ROOT), DJANGO_ENV="development",
               FIELD_ENCRYPTION_KEY=settings.FIELD_ENCRYPTION_KEY)
    env.pop("FIELD_ENCRYPTION_KEYS", None)
    env.pop("FIELD_HASH_KEYS", None)
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    settings.CELERY_QUEUE_PREFIX = f"{queue}-"  # what this process publishes goes to the worker's queues
    data = importlib.import_module("roster_sync")  # bench/roster_sync.py: units and people (on sys.path now)
    data.ensure_units()
    state = {"worker": bench.worker(env, tmp_path / "worker.log")}
    beat = bench.start([sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
                        "-s", str(tmp_path / "beat-schedule")], env, tmp_path / "beat.log", "beat: Starting")
    before = data.make_people(PEOPLE)
    after = data.resync_people(before)
    yield bench, env, state, tmp_path, before, after
    for process in (state["worker"], beat):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    app.conf.task_default_queue = previous


@pytest.mark.parametrize("kill", ["pool child", "main worker"])
def test_a_sync_killed_mid_job_is_rerun_within_a_minute_with_the_clean_result(services, kill):
    bench, env, state, folder, before, after = services
    assert settings.JOB_LEASE_SECONDS == 30 and settings.JOB_HEARTBEAT_SECONDS == 10 and settings.JOB_SWEEP_SECONDS == 15
    clean = bench.case("clean", before, after, folder, env, folder, state)
    assert clean["status"] == "succeeded" and clean["attempts"] == 1
    killed = bench.case(kill, before, after, folder, env, folder, state, delay=0.05)
    assert killed["status"] == "succeeded" and killed["attempts"] == 2
    assert killed["kill_to_rerun_s"] < 60, killed
    assert killed["snapshot"] == clean["snapshot"]  # row for row, history for history
    assert clean["snapshot"][1] > 0
