from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from roster.locks import ROSTER_LOCK_ID
from roster.models import RosterSync, Staff
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import csv_bytes, people

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's"),
]


def test_second_sync_waits_for_the_first_to_commit(units):
    import psycopg

    settings = connection.settings_dict
    holder = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432, user=settings["USER"],
        dbname=settings["NAME"], autocommit=True,
    )
    holder.execute("SELECT pg_advisory_lock(%s)", [ROSTER_LOCK_ID])  # a sync "in progress" elsewhere
    record = roster_sync_create(file=csv_bytes(people(5)), file_name="r.csv")
    finished = threading.Event()

    def run() -> None:
        try:
            roster_sync(sync=RosterSync.objects.get(pk=record.pk))
        finally:
            connections.close_all()
            finished.set()

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(1.5)
    assert not finished.is_set()
    assert Staff.objects.count() == 0
    holder.execute("SELECT pg_advisory_unlock(%s)", [ROSTER_LOCK_ID])
    holder.close()
    assert finished.wait(30)
    worker.join()
    assert Staff.objects.count() == 5
