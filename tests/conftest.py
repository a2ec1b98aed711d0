from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.helpers import make_units

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def units(db):
    """A three-level district: D (root) > A, B (departments), T (town) > T1, E (education) > S1."""
    return make_units()


@pytest.fixture(autouse=True)
def _eager_celery_unless_worker_test(request):
    """Tests run tasks in-process, even when CI sets a broker; only tests marked ``worker``
    talk to a real worker over Redis."""
    from config.celery import app

    eager = request.node.get_closest_marker("worker") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous


def real_services_available() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and bool(settings.CELERY_BROKER_URL)


requires_real_services = pytest.mark.skipif(
    not real_services_available(), reason="needs DATABASE_URL on PostgreSQL and CELERY_BROKER_URL (Redis)"
)


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real `celery worker` process taking every queue (config/queues.py) of a prefix of its
    own, against the test database. Its default queue is ``app.conf.task_default_queue``."""
    from django.db import connection

    from tests.helpers import own_queues, queue_env, queue_prefix, worker_queue_arg

    prefix = queue_prefix()
    queue = f"{prefix}celery"
    database = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        PRIVATE_UPLOAD_ROOT=str(settings.PRIVATE_UPLOAD_ROOT),
        FIELD_ENCRYPTION_KEY=settings.FIELD_ENCRYPTION_KEY,
        **queue_env(prefix),
    )
    log = Path(settings.BASE_DIR) / "var" / f"worker-{queue}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "1",
         "-Q", worker_queue_arg(prefix), "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
        cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
    )
    try:
        with own_queues(prefix):
            deadline = time.time() + 60
            while "ready." not in log.read_text():
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"celery worker did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.3)
            yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        handle.close()
        log.unlink(missing_ok=True)
