from __future__ import annotations

import os
import time

import pytest

from config.jobs import JobStatus, jobs_redispatch_stale
from roster.dropdir import roster_drop_dir_scan
from roster.models import RosterSync, Staff, SyncSource
from roster.sync import roster_sync_create, roster_sync_enqueue
from tests.conftest import requires_real_services
from tests.helpers import csv_bytes, people


@pytest.mark.django_db
def test_enqueued_sync_runs_after_commit_in_eager_mode(units, django_capture_on_commit_callbacks):
    record = roster_sync_create(file=csv_bytes(people(5)), file_name="r.csv", source=SyncSource.API)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        roster_sync_enqueue(sync=record)
        assert RosterSync.objects.get(pk=record.pk).status == JobStatus.QUEUED
    assert callbacks
    record.refresh_from_db()
    assert record.status == JobStatus.SUCCEEDED and record.created == 5
    assert Staff.objects.count() == 5


@pytest.mark.django_db
def test_drop_folder_file_is_synced_once_by_content(units, tmp_path, django_capture_on_commit_callbacks):
    data = csv_bytes(people(4))
    (tmp_path / "hr-export.csv").write_bytes(data)
    old = time.time() - 60
    os.utime(tmp_path / "hr-export.csv", (old, old))
    assert roster_drop_dir_scan(directory=tmp_path) == []  # first sighting: size not yet known stable
    with django_capture_on_commit_callbacks(execute=True):
        first = roster_drop_dir_scan(directory=tmp_path)
    assert len(first) == 1
    record = RosterSync.objects.get(pk=first[0])
    assert (record.source, record.status, record.created) == (SyncSource.DROP_DIR, JobStatus.SUCCEEDED, 4)
    # the same bytes under another name are not synced again
    (tmp_path / "copy.csv").write_bytes(data)
    os.utime(tmp_path / "copy.csv", (old, old))
    with django_capture_on_commit_callbacks(execute=True):
        assert roster_drop_dir_scan(directory=tmp_path) == []
        assert roster_drop_dir_scan(directory=tmp_path) == []
    assert RosterSync.objects.count() == 1


@pytest.mark.django_db
def test_drop_folder_waits_for_files_still_being_written(units, tmp_path):
    (tmp_path / "fresh.csv").write_bytes(csv_bytes(people(2)))
    assert roster_drop_dir_scan(directory=tmp_path) == []
    assert roster_drop_dir_scan(directory=tmp_path) == []


@pytest.mark.django_db
def test_drop_folder_file_with_errors_is_recorded_as_refused(units, tmp_path, django_capture_on_commit_callbacks):
    (tmp_path / "bad.csv").write_bytes(b"\xef\xbb\xbf")
    old = time.time() - 60
    os.utime(tmp_path / "bad.csv", (old, old))
    roster_drop_dir_scan(directory=tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        [pk] = roster_drop_dir_scan(directory=tmp_path)
    record = RosterSync.objects.get(pk=pk)
    assert record.status == JobStatus.REFUSED and record.errors[0]["row"] is None


@pytest.mark.django_db
def test_sweeper_redispatches_syncs_left_queued(units, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    record = roster_sync_create(file=csv_bytes(people(3)), file_name="r.csv")
    RosterSync.objects.filter(pk=record.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10))
    sent = jobs_redispatch_stale()
    assert sent["roster_sync"] == 1
    record.refresh_from_db()
    assert record.status == JobStatus.SUCCEEDED and record.created == 3


@requires_real_services
@pytest.mark.worker
def test_real_worker_syncs_a_file_end_to_end(units, celery_worker_process):
    from django.db import transaction

    with transaction.atomic():
        record = roster_sync_create(file=csv_bytes(people(25)), file_name="r.csv", source=SyncSource.API)
        roster_sync_enqueue(sync=record)
    deadline = time.time() + 60
    while time.time() < deadline:
        record.refresh_from_db()
        if record.is_finished:
            break
        time.sleep(0.3)
    assert record.status == JobStatus.SUCCEEDED
    assert (record.created, record.applied) == (25, True)
    assert Staff.objects.filter(is_active=True).count() == 25
    while record.source_file and time.time() < deadline:  # the file goes just after the finish
        time.sleep(0.2)
        record.refresh_from_db()
    assert not record.source_file
