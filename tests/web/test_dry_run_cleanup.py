"""Web dry runs keep their files for the confirm step; beat drops the ones left for a day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from config.jobs import JobStatus
from roster.models import RosterSync, SyncSource
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import csv_bytes, people
from web.tasks import discard_stale_dry_run_files

pytestmark = pytest.mark.django_db


def test_the_cleanup_runs_on_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["web-discard-stale-dry-run-files"]
    assert entry["task"] == "web.tasks.discard_stale_dry_run_files" and entry["schedule"] <= 3600


def test_the_cleanup_task_drops_day_old_dry_run_files_only(units):
    old = roster_sync_create(file=csv_bytes(people(1)), file_name="old.csv", dry_run=True, source=SyncSource.WEB)
    roster_sync(sync=old)
    fresh = roster_sync_create(file=csv_bytes(people(1)), file_name="new.csv", dry_run=True, source=SyncSource.WEB)
    roster_sync(sync=fresh)
    RosterSync.objects.filter(pk=old.pk).update(created_at=old.created_at - dt.timedelta(days=2))
    assert discard_stale_dry_run_files.delay().get() == {"roster_syncs": 1, "imports": 0}
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == JobStatus.SUCCEEDED and not old.source_file and fresh.source_file
