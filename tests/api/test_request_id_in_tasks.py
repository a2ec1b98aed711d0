"""A request's X-Request-ID reaches the real worker that runs the task it enqueued: the worker's
JSON log lines for that task carry it, and no ID number or phone."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from roster.models import RosterSync
from tests.conftest import requires_real_services
from tests.helpers import csv_bytes, people


@pytest.fixture
def json_worker_logs(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")


@requires_real_services
@pytest.mark.worker
def test_the_request_id_is_carried_into_the_worker(json_worker_logs, personas, celery_worker_process):
    rows = people(3)
    upload = SimpleUploadedFile("roster.csv", csv_bytes(rows), content_type="text/csv")
    response = personas["hr"].client().post("/api/v1/roster/syncs/", {"file": upload}, format="multipart",
                                            HTTP_X_REQUEST_ID="req-from-hr-1")
    assert response.status_code == 202 and response["X-Request-ID"] == "req-from-hr-1"
    record = RosterSync.objects.get(pk=response.json()["id"])
    deadline = time.time() + 60
    while not record.is_finished and time.time() < deadline:
        time.sleep(0.3)
        record.refresh_from_db()
    assert record.is_finished
    from config.celery import app

    log = Path(settings.BASE_DIR, "var", f"worker-{app.conf.task_default_queue}.log")
    time.sleep(1)
    text = log.read_text()
    entries = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    mine = [e for e in entries if e.get("request_id") == "req-from-hr-1"]
    assert mine and any("sync_roster" in e["message"] for e in mine), text[-3000:]
    assert all(e["job_id"] == f"sync_roster:{record.pk}" for e in mine)
    for person in rows:
        assert person.id_number not in text and person.phone not in text
