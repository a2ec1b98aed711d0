"""Stale synchronous imports are swept (issue 21, item 6): a sign-in sheet runs in the request
that uploads it, under the job helper's lease; when its process dies, the sweeper ends the
record as failed once the lease has run out and deletes the uploaded file."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.jobs import JobStatus, job_claim, jobs_redispatch_stale
from sheets.models import ImportKind, ImportRecord
from sheets.services import import_record_create
from tests.helpers import stored_upload

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_a_sign_in_sheet_past_its_lease_is_ended_failed_and_its_file_deleted():
    record = import_record_create(kind=ImportKind.ATTENDANCE, file=b"x", file_name="s.csv")
    assert job_claim(model=ImportRecord, pk=record.pk) == 1
    upload = stored_upload(record.source_file)
    assert upload.exists()
    assert jobs_redispatch_stale()["attendance_import"] == 0  # a live lease: left alone
    ImportRecord.objects.filter(pk=record.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert jobs_redispatch_stale()["attendance_import"] == 1
    record.refresh_from_db()
    assert record.status == JobStatus.FAILED and "中断" in record.message
    assert not record.source_file and not upload.exists()


def _database_url() -> str:
    d = connection.settings_dict
    auth = d["USER"] + (f":{d['PASSWORD']}" if d.get("PASSWORD") else "")
    return f"postgres://{auth}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second process on the same database: PostgreSQL")
def test_a_sign_in_sheet_killed_in_flight_is_swept_within_its_lease(tmp_path):
    env = {**os.environ, "DATABASE_URL": _database_url(), "PRIVATE_UPLOAD_ROOT": str(settings.MEDIA_ROOT),
           "JOB_LEASE_SECONDS": "3", "DJANGO_ENV": "development", "CELERY_BROKER_URL": ""}
    process = subprocess.Popen([sys.executable, str(ROOT / "tests" / "jobs" / "signin_probe.py")], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout.readline().strip() == "applying"
        record = ImportRecord.objects.get(kind=ImportKind.ATTENDANCE)
        assert record.status == JobStatus.RUNNING and record.source_file
        upload = stored_upload(record.source_file)
        assert upload.exists()
        time.sleep(3.5)  # its heartbeat keeps the lease while it lives
        assert jobs_redispatch_stale()["attendance_import"] == 0
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    killed = time.monotonic()
    while jobs_redispatch_stale()["attendance_import"] == 0:
        assert time.monotonic() - killed < 10
        time.sleep(0.2)
    record.refresh_from_db()
    assert record.status == JobStatus.FAILED and "中断" in record.message
    assert not record.source_file and not upload.exists()
