"""/readyz answers 200 only when the database, the migrations, the broker, a worker per queue
and beat are all alive, and 503 naming what is not; /healthz stays the liveness check."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.utils import timezone

from ops.models import Heartbeat
from tests.conftest import ROOT, requires_real_services
from tests.helpers import queue_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, which the test may stop."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield port, process
    if process.poll() is None:
        process.kill()
        process.wait()


def _beats(*names: str, age: float = 0) -> None:
    at = timezone.now() - dt.timedelta(seconds=age)
    for name in names:
        Heartbeat.objects.update_or_create(name=name, defaults={"at": at})


@pytest.mark.django_db
def test_readyz_is_ok_without_a_broker(client, settings):
    settings.CELERY_BROKER_URL = ""  # eager: tasks run in-process
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("database", "migrations", "broker", "workers", "beat")} == dict.fromkeys(
        ("database", "migrations", "broker", "workers", "beat"), "ok")
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_readyz_goes_503_when_the_broker_stops(client, settings, own_redis):
    port, redis = own_redis
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    settings.READYZ_QUEUES = ["celery"]
    _beats("worker:celery:host:1", "beat")
    assert client.get("/readyz").status_code == 200
    redis.send_signal(signal.SIGTERM)
    redis.wait(timeout=10)
    started = time.monotonic()
    response = client.get("/readyz")
    assert response.status_code == 503 and time.monotonic() - started < 10
    body = response.json()
    assert body["broker"].startswith("消息队列不可用") and body["database"] == "ok" and body["status"] == "unavailable"


@pytest.mark.django_db
def test_readyz_goes_503_when_the_workers_or_beat_are_silent(client, settings, own_redis):
    port, _ = own_redis
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    settings.READYZ_QUEUES = ["celery", "reports"]
    settings.READYZ_STALE_SECONDS = 120
    _beats("worker:celery:host:1", "worker:reports:host:1", "beat")
    assert client.get("/readyz").status_code == 200
    _beats("worker:reports:host:1", age=121)
    body = client.get("/readyz").json()
    assert body["queues"] == {"celery": "ok", "reports": body["queues"]["reports"]}
    assert "reports" in body["workers"] and "没有心跳" in body["workers"]
    Heartbeat.objects.filter(name__startswith="worker:").delete()
    _beats("worker:celery:a:1", "worker:reports:b:2")
    _beats("beat", age=300)
    response = client.get("/readyz")
    assert response.status_code == 503 and "beat" in response.json()["beat"] and response.json()["workers"] == "ok"


@pytest.mark.django_db
def test_readyz_reports_unapplied_migrations(client, monkeypatch):
    from ops import readiness

    monkeypatch.setattr(readiness, "_migrations_ok", False)

    class Pending:
        app_label, name = "roster", "0099_future"

    monkeypatch.setattr("django.db.migrations.executor.MigrationExecutor.migration_plan", lambda self, targets: [(Pending, False)])
    response = client.get("/readyz")
    assert response.status_code == 503 and "roster.0099_future" in response.json()["migrations"]


@pytest.fixture
def fast_heartbeat(monkeypatch):
    monkeypatch.setenv("WORKER_HEARTBEAT_SECONDS", "1")


@requires_real_services
@pytest.mark.worker
def test_readyz_follows_a_real_worker_and_beat(fast_heartbeat, celery_worker_process, settings, tmp_path):
    from django.db import connection
    from django.test import Client

    from config.queues import worker_queues

    queues = worker_queues()  # the worker takes all four queues of its prefix: each has a heartbeat
    assert len(queues) == 4 and all(q.startswith(settings.CELERY_QUEUE_PREFIX) for q in queues)
    settings.READYZ_QUEUES = queues
    db = connection.settings_dict
    env = {**os.environ, "WORKER_HEARTBEAT_SECONDS": "1", **queue_env(settings.CELERY_QUEUE_PREFIX),
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
    beat = subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "beat", "-s", str(tmp_path / "beat")],
                            cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = Client()
        deadline = time.time() + 60
        while (response := client.get("/readyz")).status_code != 200 and time.time() < deadline:
            time.sleep(0.5)
        assert response.status_code == 200, response.json()
        assert response.json()["queues"] == {queue: "ok" for queue in queues}
        celery_worker_process.terminate()
        celery_worker_process.wait(timeout=30)
        response = client.get("/readyz")
        assert response.status_code == 503 and all(queue in response.json()["workers"] for queue in queues)
        assert response.json()["beat"] == "ok"
    finally:
        beat.terminate()
        beat.wait(timeout=20)


@pytest.mark.django_db
def test_readyz_command_checks_only_the_queues_a_worker_takes(settings, capsys):
    """A per-queue worker's compose health check (``readyz --queue imports``) does not fail
    because another queue's worker is down; /readyz itself waits for every queue."""
    from django.core.management import call_command

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # the workers' check reads heartbeats only
    settings.CELERY_QUEUE_PREFIX = ""
    settings.READYZ_QUEUES = ["celery", "imports", "reports", "reminders"]
    _beats("worker:imports:host:1", "worker:celery:host:1")
    call_command("readyz", "--only", "workers", "--queue", "imports", "default")  # exit 0: no SystemExit
    with pytest.raises(SystemExit) as exited:
        call_command("readyz", "--only", "workers", "--queue", "reports")
    assert exited.value.code == 1 and "reports" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        call_command("readyz", "--only", "workers")  # all of READYZ_QUEUES
