"""A real worker (prefork) with METRICS_WORKER_PORT and PROMETHEUS_MULTIPROC_DIR serves the task
counts and durations of its pool children on its own port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest
from django.conf import settings
from django.db import connection

pytestmark = [pytest.mark.worker, pytest.mark.postgres]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_worker_serves_its_task_counts_and_durations(transactional_db, tmp_path):
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL:
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL)")
    from config.tasks import redispatch_stale_jobs

    d = connection.settings_dict
    queue, port = f"test-metrics-{uuid.uuid4().hex[:6]}", _free_port()
    env = {**os.environ, "DATABASE_URL": f"postgres://{d['USER']}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}",
           "CELERY_TASK_DEFAULT_QUEUE": queue, "METRICS_WORKER_PORT": str(port),
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"), "DJANGO_ENV": "development"}
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "1",
                               "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
                              cwd=settings.BASE_DIR, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
        redispatch_stale_jobs.apply_async(queue=queue)  # run in the pool child
        wanted = 'legaltrack_celery_tasks_total{state="SUCCESS",task="config.tasks.redispatch_stale_jobs"} 1.0'
        deadline, text = time.monotonic() + 60, ""
        while time.monotonic() < deadline and wanted not in text:
            time.sleep(0.5)
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
            except OSError:
                continue
        assert wanted in text, text[-2000:] + log.read_text()[-2000:]
        assert 'legaltrack_celery_task_duration_seconds_count{task="config.tasks.redispatch_stale_jobs"} 1.0' in text
    finally:
        worker.terminate()
        worker.wait(timeout=30)
