"""Schemathesis's own CLI, `schemathesis run --checks all`, against the real app served by
gunicorn (config.wsgi, with its start-up guards), on a real database seeded with the demo data,
once with a legal_office token and once with a liaison token, each obtained through
POST /api/v1/auth/token/. Both runs must find 0 failures.

The database: on PostgreSQL the test's own database (the server sees what the test commits); on
SQLite a file (an in-memory test database cannot be shared with another process). The examples
per operation are bounded (SCHEMATHESIS_LIVE_EXAMPLES, default 5) and the seed is fixed
(SCHEMATHESIS_LIVE_SEED), so a run takes about 1.5 minutes per token. The operations narrowed by
tests/api/schemathesis.toml, and why, are listed in docs/api.md ("Schemathesis").
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CONFIG = Path(__file__).with_name("schemathesis.toml")
DEMO_PASSWORD = "demo-api-2026"  # api/demo.py


def _port() -> int:
    """8112 (this suite's port) when free, else any free port."""
    wanted = int(os.environ.get("SCHEMATHESIS_LIVE_PORT", "8112"))
    for candidate in (wanted, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port")


def _database_url(tmp_path: Path) -> str:
    database = connection.settings_dict
    if database["ENGINE"].endswith("postgresql"):
        user = database["USER"] or "postgres"
        password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
        return f"postgres://{user}{password}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    return f"sqlite:///{tmp_path / 'live.sqlite3'}"


def _post_json(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.fixture
def live_app(transactional_db, tmp_path):
    """gunicorn serving config.wsgi on a seeded database; yields the base URL."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url(tmp_path),
        DJANGO_ENV="development",
        CELERY_BROKER_URL="",  # tasks run inside the request, as in the tests
        PRIVATE_UPLOAD_ROOT=str(tmp_path / "private"),
        FIELD_ENCRYPTION_KEY=settings.FIELD_ENCRYPTION_KEY,
        API_THROTTLE_ANON="100000/min",  # unauthenticated probes (ignored_auth) come fast
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("FIELD_ENCRYPTION_KEYS", None)
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run(manage + step, cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    for username in ("demo-legal", "demo-liaison"):
        # many requests in a short time: the two accounts are exempt from the rate limits
        subprocess.run(manage + ["shell", "-c", "from access.models import UserRole; "
                                 f"UserRole.objects.filter(user__username='{username}').update(rate_limit_exempt=True)"],
                       cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    port = _port()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--timeout", "120"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=30).close()
            break
        except OSError:  # refused while starting, or slow on a loaded machine
            if server.poll() is not None or time.time() > deadline:
                server.kill()
                raise RuntimeError((tmp_path / "gunicorn.log").read_text()[-3000:]) from None
            time.sleep(0.5)
    yield base
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def _schemathesis(base: str, token: str, workdir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "schemathesis"), "--config-file", str(CONFIG), "run", f"{base}/api/schema/?format=json",
         "--checks", "all",
         "--max-examples", os.environ.get("SCHEMATHESIS_LIVE_EXAMPLES", "5"),
         "--seed", os.environ.get("SCHEMATHESIS_LIVE_SEED", "2026"),
         "--workers", "2", "--request-timeout", "60", "--no-color",
         "--header", f"Authorization: Token {token}"],
        cwd=workdir, capture_output=True, text=True, timeout=600,
    )


def test_schemathesis_all_checks_against_the_live_server_with_each_token(live_app, tmp_path):
    for username in ("demo-legal", "demo-liaison"):
        status, body = _post_json(f"{live_app}/api/v1/auth/token/", {"username": username, "password": DEMO_PASSWORD})
        assert status == 200 and body.get("token"), (username, status, body)
        workdir = tmp_path / username
        workdir.mkdir()
        started = time.monotonic()
        run = _schemathesis(live_app, body["token"], workdir)
        output = run.stdout + run.stderr
        assert run.returncode == 0, f"{username}: schemathesis failed ({time.monotonic() - started:.0f} s)\n{output[-12000:]}"
        assert "Operations:" in output and " 0 selected" not in output, output[-3000:]
