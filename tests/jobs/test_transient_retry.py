"""A transient database failure is retried (issue 21, item 5): the job's connection is
terminated mid-apply (``pg_terminate_backend``, as an admin kill or a failover does), the job
is retried with backoff and completes; its file is kept until the final state."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from config.jobs import JobStatus
from roster import sync as sync_module
from roster.models import RosterSync, Staff, StaffChange
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import csv_bytes, people

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_terminate_backend: PostgreSQL"),
]


def _terminate_this_connection() -> None:
    d = connection.settings_dict
    pid = connection.connection.info.backend_pid
    with psycopg.connect(host=d["HOST"] or "127.0.0.1", port=d["PORT"] or 5432, user=d["USER"],
                         password=d.get("PASSWORD") or None, dbname=d["NAME"], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def killing_apply(monkeypatch, settings):
    """The first ``times`` applies have their connection killed under them."""
    settings.JOB_RETRY_SECONDS = 0.05
    real_apply = sync_module.RosterStage.apply
    calls: list[bool] = []
    state = {"times": 1}

    def apply(self, *, sync, **kwargs):
        # the upload is still there while the job is not final
        calls.append(RosterSync.objects.get(pk=sync.pk).source_file.storage.exists(
            RosterSync.objects.get(pk=sync.pk).source_file.name))
        if len(calls) <= state["times"]:
            _terminate_this_connection()
        return real_apply(self, sync=sync, **kwargs)

    monkeypatch.setattr(sync_module.RosterStage, "apply", apply)
    return state, calls


def test_a_sync_whose_connection_is_terminated_mid_apply_is_retried_and_completes(units, killing_apply):
    state, calls = killing_apply
    record = roster_sync_create(file=csv_bytes(people(40)), file_name="r.csv")
    result = roster_sync(sync=RosterSync.objects.get(pk=record.pk))
    assert result.status == JobStatus.SUCCEEDED and result.applied and result.created == 40
    assert calls == [True, True]  # killed once, retried once; the file was there both times
    assert Staff.objects.count() == 40
    history = list(StaffChange.objects.values_list("staff_id", "kind", "field"))
    assert len(history) == len(set(history))  # the killed attempt left nothing behind
    record.refresh_from_db()
    assert record.attempts == 1 and not record.source_file  # one claim; file gone at the end


def test_a_database_that_stays_unavailable_fails_the_job_saying_so_after_five_retries(units, killing_apply, settings):
    state, calls = killing_apply
    state["times"] = 99
    settings.JOB_DB_RETRIES = 5
    record = roster_sync_create(file=csv_bytes(people(5)), file_name="r.csv")
    result = roster_sync(sync=RosterSync.objects.get(pk=record.pk))
    assert len(calls) == 6 and all(calls)
    assert result.status == JobStatus.FAILED and not result.applied
    assert "数据库暂时不可用" in result.message
    assert Staff.objects.count() == 0
    record.refresh_from_db()
    assert not record.source_file
