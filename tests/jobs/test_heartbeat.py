"""Heartbeat leases: a healthy job renews its lease while it works, also inside its long
transaction, so the sweeper never hands it to another worker (issue 21)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from config.jobs import JobStatus, job_claim, jobs_redispatch_stale
from roster import sync as sync_module
from roster.models import RosterSync, Staff
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import csv_bytes, people

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a heartbeat needs a second connection: PostgreSQL"),
]


def test_the_defaults_renew_a_lease_of_a_few_heartbeats_and_sweep_every_15_seconds():
    from django.conf import settings

    assert settings.JOB_HEARTBEAT_SECONDS == 10 and settings.JOB_LEASE_SECONDS == 30
    assert settings.CELERY_BEAT_SCHEDULE["jobs-redispatch-stale"]["schedule"] == 15


def test_a_healthy_job_holding_a_step_for_three_leases_is_never_taken_over(units, settings, monkeypatch):
    settings.JOB_LEASE_SECONDS = 1.5
    settings.JOB_HEARTBEAT_SECONDS = 0.3
    record = roster_sync_create(file=csv_bytes(people(30)), file_name="slow.csv")
    inside, real_apply = threading.Event(), sync_module.RosterStage.apply

    def slow_apply(self, **kwargs):
        inside.set()
        time.sleep(3 * settings.JOB_LEASE_SECONDS)  # one step, inside the locked transaction
        return real_apply(self, **kwargs)

    monkeypatch.setattr(sync_module.RosterStage, "apply", slow_apply)
    done: dict = {}

    def run() -> None:
        try:
            done["result"] = roster_sync(sync=RosterSync.objects.get(pk=record.pk))
        finally:
            connections.close_all()

    worker = threading.Thread(target=run)
    worker.start()
    assert inside.wait(30)
    claims, swept = [], []
    while worker.is_alive():
        claims.append(job_claim(model=RosterSync, pk=record.pk))
        swept.append(jobs_redispatch_stale()["roster_sync"])
        time.sleep(0.2)
    worker.join()
    assert len(claims) >= 10
    assert set(claims) == {None} and set(swept) == {0}
    record.refresh_from_db()
    assert record.status == JobStatus.SUCCEEDED and record.attempts == 1 and record.created == 30
    assert done["result"].applied and Staff.objects.count() == 30
