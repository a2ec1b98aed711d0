"""Redis down is not an outage (issue 21): with the broker and the cache on a Redis that is
not there, sign-in and reads answer as without throttling, and uploads answer 202 with their
record kept, queued for the sweeper to send once the broker is back."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

from config.cache import DegradingRedisCache

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "tests" / "api" / "scripts" / "redis_down_probe.py"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_with_broker_and_cache_on_a_dead_redis_the_api_answers_and_uploads_are_kept(tmp_path):
    dead = f"redis://127.0.0.1:{_closed_port()}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        "PRIVATE_UPLOAD_ROOT": str(tmp_path / "uploads"),
        "CELERY_BROKER_URL": f"{dead}/5",
        "REDIS_CACHE_URL": f"{dead}/1",
        "DJANGO_ENV": "development",
    }
    done = subprocess.run([sys.executable, str(PROBE)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["eager"] is False
    assert outcome["token"] == 200 and outcome["units"] == 200
    assert outcome["roster_upload"] == 202 and outcome["roster_kept"] == "queued"
    assert outcome["results_upload"] == 202 and outcome["results_kept"] == "queued"
    assert "cache unavailable" in done.stderr
    assert outcome["elapsed"] < 30


def test_the_degrading_cache_misses_and_drops_writes_with_one_warning(caplog, monkeypatch):
    monkeypatch.setattr("config.cache._last_warning", [0.0])
    cache = DegradingRedisCache(f"redis://127.0.0.1:{_closed_port()}/1",
                                {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}})
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        assert cache.get("k", "default") == "default"
        cache.set("k", 1)
        assert cache.add("k", 1) is True
        assert cache.get_many(["a", "b"]) == {}
        assert cache.incr("n", 3) == 3
    assert "cache unavailable" in caplog.text
