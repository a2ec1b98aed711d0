"""A hung holder of the roster lock does not stall the rest (issue 21, item 7): a staff write
answers 503 in Chinese within seconds, other requests and other jobs carry on, and a roster
sync job gives up after its bounded retries instead of holding a worker for ever."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection, connections

from config.dbtimeouts import web_timeouts_install, web_timeouts_uninstall
from config.jobs import JobStatus
from exams.imports import exam_import_create, exam_import_run
from roster.locks import ROSTER_BUSY, ROSTER_LOCK_ID
from roster.models import RosterSync, Staff
from roster.sync import roster_sync, roster_sync_create
from sheets.models import ImportKind
from tests.exams.conftest import EXEMPTION_HEADER, make_exam
from tests.helpers import csv_bytes, new_id, people

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks and timeouts are PostgreSQL's"),
]


def _connect(**extra) -> psycopg.Connection:
    d = connection.settings_dict
    return psycopg.connect(host=d["HOST"] or "127.0.0.1", port=d["PORT"] or 5432, user=d["USER"],
                           password=d.get("PASSWORD") or None, dbname=d["NAME"], **extra)


@pytest.fixture
def hung_holder():
    """A process that took the roster lock inside a transaction and hangs there."""
    holder = _connect()
    holder.execute("SELECT pg_advisory_xact_lock(%s)", [ROSTER_LOCK_ID])
    yield holder
    holder.rollback()
    holder.close()


def test_web_and_other_jobs_carry_on_while_a_lock_holder_hangs(personas, settings, hung_holder, tmp_path):
    settings.ROSTER_LOCK_WAIT_SECONDS = 1
    settings.ROSTER_LOCK_JOB_WAIT_SECONDS = 0.5
    settings.JOB_DB_RETRIES = 2
    settings.JOB_RETRY_SECONDS = 0.1
    hr = personas["hr"].client()
    started = time.monotonic()
    response = hr.post("/api/v1/staff/", {"staff_no": "N1", "name": "新同事", "id_number": new_id(), "unit": "A"},
                       format="json")
    elapsed = time.monotonic() - started
    assert response.status_code == 503 and elapsed < 5, response.content
    assert response.json()["detail"] == ROSTER_BUSY and response["Retry-After"]
    assert not Staff.objects.filter(staff_no="N1").exists()
    # reads answer at once
    started = time.monotonic()
    assert hr.get("/api/v1/units/").status_code == 200
    assert time.monotonic() - started < 2

    # another kind of job runs to the end
    exam = make_exam()
    record = exam_import_create(exam=exam, kind=ImportKind.EXAM_EXEMPTIONS, file_name="e.csv",
                                file=csv_bytes([["0009", "", "某人", "病假"]], header=EXEMPTION_HEADER))
    assert exam_import_run(record=record).status == JobStatus.SUCCEEDED

    # a roster sync job retries with backoff, then ends failed with the reason; bounded
    started = time.monotonic()
    sync = roster_sync(sync=roster_sync_create(file=csv_bytes(people(3)), file_name="r.csv"))
    assert time.monotonic() - started < 10
    assert sync.status == JobStatus.FAILED and sync.message == ROSTER_BUSY
    assert RosterSync.objects.get(pk=sync.sync_id).attempts == 1


def test_web_connections_bound_lock_waits_and_statements_and_every_connection_idle_transactions(settings):
    settings.DB_WEB_LOCK_TIMEOUT_MS = 1500
    settings.DB_WEB_STATEMENT_TIMEOUT_MS = 2500
    web_timeouts_install()
    try:
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] == "1500ms"
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "2500ms"
            cursor.execute("SELECT setting FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout'")
            assert cursor.fetchone()[0] == str(settings.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS)
    finally:
        web_timeouts_uninstall()
        connections.close_all()
    assert "idle_in_transaction_session_timeout" in settings.DATABASES["default"]["OPTIONS"]["options"]
