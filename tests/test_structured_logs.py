"""LOG_FORMAT=json: one JSON object per line with time, level, logger, message, request_id,
user_id and job_id; no ID number or phone in any line. X-Request-ID is taken or made, returned,
and carried into the tasks a request enqueues."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from config import logs
from tests.conftest import ROOT

ID_NUMBER = "110101199003074578"
PHONE = "13812345678"

SCRIPT = f"""
import logging, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from django.test import Client
client = Client()
response = client.get("/no-such-page/{ID_NUMBER}/{PHONE}", HTTP_X_REQUEST_ID="req-abc.123")
print("returned", response["X-Request-ID"], response.status_code)
made = client.get("/healthz")["X-Request-ID"]
print("made", made)
log = logging.getLogger("roster.sync")
try:
    raise ValueError("Failing row contains ({ID_NUMBER}, {PHONE})")
except ValueError:
    log.exception("sync of %s failed for %s", "{ID_NUMBER}", "{PHONE}")
"""


def test_json_logs_are_one_object_per_line_without_personal_data(tmp_path):
    env = {**os.environ, "LOG_FORMAT": "json", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "returned req-abc.123 404" in done.stdout
    made = done.stdout.split("made ")[1].split()[0]
    assert len(made) == 32
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is JSON
    assert all({"time", "level", "logger", "message", "request_id", "user_id", "job_id"} <= set(e) for e in entries)
    [not_found] = [e for e in entries if e["logger"] == "django.request"]
    assert not_found["request_id"] == "req-abc.123" and not_found["level"] == "WARNING"
    [failure] = [e for e in entries if e["logger"] == "roster.sync"]
    assert failure["level"] == "ERROR" and "ValueError" in failure["exception"] and failure["request_id"] is None
    assert ID_NUMBER not in done.stderr and PHONE not in done.stderr
    assert "110101********4578" in done.stderr


def _capture() -> tuple[logging.Handler, list[str]]:
    lines: list[str] = []

    class ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = ListHandler()
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    return handler, lines


@pytest.mark.django_db
def test_a_request_line_names_the_signed_in_user(client, django_user_model):
    user = django_user_model.objects.create_user("someone", password="x" * 12)
    client.force_login(user)
    handler, lines = _capture()
    logging.getLogger("django.request").addHandler(handler)
    try:
        # the API authenticates the user, then refuses or does not find: Django logs a warning
        response = client.get("/api/v1/staff/99999999/", HTTP_X_REQUEST_ID="r-1")
    finally:
        logging.getLogger("django.request").removeHandler(handler)
    assert response["X-Request-ID"] == "r-1"
    entry = json.loads(lines[-1])
    assert response.status_code in (403, 404)
    assert (entry["request_id"], entry["user_id"]) == ("r-1", user.pk)


@pytest.mark.django_db
def test_a_bad_request_id_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline" and len(response["X-Request-ID"]) == 32


def test_the_request_id_goes_into_the_headers_of_a_published_task():
    token = logs.request_id_var.set("req-9")
    try:
        headers: dict = {}
        logs.task_publish_add_request_id(headers=headers)
        assert headers == {"request_id": "req-9"}
    finally:
        logs.request_id_var.reset(token)


def test_a_task_line_carries_the_request_id_and_the_job():
    from celery import shared_task

    from config.celery import app

    handler, lines = _capture()
    logger = logging.getLogger("tests.task")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    @shared_task(name="tests.log_something")
    def log_something(record_id: int) -> None:
        logger.info("working on the record")

    app.conf.task_always_eager = True
    token = logs.request_id_var.set("req-42")
    try:
        log_something.delay(7)
    finally:
        logs.request_id_var.reset(token)
        logger.removeHandler(handler)
    entry = json.loads(lines[-1])
    assert entry["request_id"] == "req-42" and entry["job_id"] == "log_something:7"
