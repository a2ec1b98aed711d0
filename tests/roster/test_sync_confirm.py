"""The web pages' two-step roster sync: a dry run keeps its file, confirming it syncs that file."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from config.errors import DomainError
from config.jobs import JobStatus
from roster.models import RosterSync, Staff, SyncMode, SyncSource
from roster.sync import roster_sync, roster_sync_confirm, roster_sync_create, roster_sync_discard_stale_files
from tests.helpers import StoredUpload, csv_bytes, people, stored_upload

pytestmark = pytest.mark.django_db


def dry_run(data: bytes, *, source: str = SyncSource.WEB, **options) -> RosterSync:
    sync = roster_sync_create(file=data, file_name="名册.csv", dry_run=True, source=source, **options)
    roster_sync(sync=sync)
    sync.refresh_from_db()
    return sync


def stored(sync: RosterSync) -> StoredUpload | None:
    return stored_upload(sync.source_file) if sync.source_file else None


def test_a_web_dry_run_that_passed_keeps_its_file_and_changes_nothing(units):
    sync = dry_run(csv_bytes(people(3)))
    assert sync.status == JobStatus.SUCCEEDED and not sync.applied and sync.created == 3
    assert [row["staff_no"] for row in sync.preview["created"]] == ["0001", "0002", "0003"]
    assert stored(sync).is_file()
    assert not Staff.objects.exists()


def test_confirming_syncs_the_same_file_with_the_same_options_once(units, django_capture_on_commit_callbacks):
    sync = dry_run(csv_bytes(people(4)), mode=SyncMode.PARTIAL, skip_invalid=True)
    path = stored(sync)
    with django_capture_on_commit_callbacks(execute=True):
        real = roster_sync_confirm(dry_run_sync=sync, started_by=None)
    real.refresh_from_db()
    assert (real.dry_run, real.mode, real.skip_invalid, real.source) == (False, SyncMode.PARTIAL, True, SyncSource.WEB)
    assert real.status == JobStatus.SUCCEEDED and real.applied and real.created == 4
    assert real.sha256 == sync.sha256 and real.file_name == "名册.csv"
    assert Staff.objects.count() == 4
    sync.refresh_from_db()
    assert not sync.source_file and not path.exists()
    assert not real.source_file  # the real sync drops its file once it has run
    with pytest.raises(DomainError, match="已确认过"):
        roster_sync_confirm(dry_run_sync=sync)


def test_a_refused_dry_run_cannot_be_confirmed_and_keeps_no_file(units):
    rows = [*people(2), ["0009", "无身份证", "123", "A", "", "", "", ""]]
    sync = dry_run(csv_bytes(rows))
    assert sync.status == JobStatus.REFUSED and sync.errors[0]["row"] == 4
    assert not sync.source_file
    with pytest.raises(DomainError, match="未通过"):
        roster_sync_confirm(dry_run_sync=sync)


def test_only_web_dry_runs_can_be_confirmed(units):
    cli = dry_run(csv_bytes(people(1)), source=SyncSource.CLI)
    assert not cli.source_file
    with pytest.raises(DomainError, match="网页"):
        roster_sync_confirm(dry_run_sync=cli)
    real = roster_sync_create(file=csv_bytes(people(1)), file_name="r.csv", source=SyncSource.WEB)
    roster_sync(sync=real)
    with pytest.raises(DomainError, match="网页"):
        roster_sync_confirm(dry_run_sync=real)


def test_unconfirmed_dry_run_files_go_after_a_day(units):
    sync = dry_run(csv_bytes(people(2)))
    path = stored(sync)
    later = timezone.now() + dt.timedelta(days=1, seconds=5)
    with pytest.raises(DomainError, match="超过一天"):
        roster_sync_confirm(dry_run_sync=sync, now=later)
    assert roster_sync_discard_stale_files(now=timezone.now()) == 0
    assert path.exists()
    assert roster_sync_discard_stale_files(now=later) == 1
    sync.refresh_from_db()
    assert not sync.source_file and not path.exists()


def test_stale_file_cleanup_leaves_queued_syncs_alone(units):
    queued = roster_sync_create(file=csv_bytes(people(1)), file_name="q.csv", source=SyncSource.WEB)
    assert roster_sync_discard_stale_files(now=timezone.now() + dt.timedelta(days=3)) == 0
    queued.refresh_from_db()
    assert queued.source_file and queued.status == JobStatus.QUEUED


def test_a_dry_run_that_would_change_nothing_offers_no_confirm_and_keeps_no_file(units):
    staff = people(3)
    assert roster_sync(sync=roster_sync_create(file=csv_bytes(staff), file_name="r.csv")).applied
    sync = dry_run(csv_bytes(staff))
    assert sync.status == JobStatus.SUCCEEDED and sync.unchanged == 3 and not sync.source_file
    with pytest.raises(DomainError, match="没有需要同步的变化"):
        roster_sync_confirm(dry_run_sync=sync)
    assert RosterSync.objects.count() == 2
