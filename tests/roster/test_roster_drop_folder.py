"""The drop folder takes only whole files, moves what it took, and keeps a record of each."""

from __future__ import annotations

import os
import time

import pytest

from config.jobs import JobStatus
from roster.dropdir import roster_drop_dir_scan
from roster.models import DropFileStatus, RosterDropFile, RosterSync, Staff
from tests.helpers import csv_bytes, people

OLD = time.time() - 600


def _write(path, data: bytes, *, mtime: float = OLD) -> None:
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


def _scan(tmp_path, capture):
    with capture(execute=True):
        return roster_drop_dir_scan(directory=tmp_path)


@pytest.mark.django_db
def test_half_written_file_is_never_synced(units, tmp_path, django_capture_on_commit_callbacks):
    data = csv_bytes(people(40))
    target = tmp_path / "hr.csv"
    # a writer that pauses between chunks: each chunk lands long enough ago to pass the mtime guard
    for share, mtime in ((0.5, OLD), (0.8, OLD + 1), (0.95, OLD + 2)):
        _write(target, data[: int(len(data) * share)], mtime=mtime)
        assert _scan(tmp_path, django_capture_on_commit_callbacks) == []
        assert RosterSync.objects.count() == 0 and Staff.objects.count() == 0
    _write(target, data, mtime=OLD + 3)
    assert _scan(tmp_path, django_capture_on_commit_callbacks) == []  # size changed since the last scan
    [pk] = _scan(tmp_path, django_capture_on_commit_callbacks)  # stable across two scans
    record = RosterSync.objects.get(pk=pk)
    assert (record.status, record.created) == (JobStatus.SUCCEEDED, 40)
    assert RosterSync.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["hr.csv.part", "hr.csv.tmp", "~$hr.xlsx", "HR.CSV.PART"])
def test_files_still_being_uploaded_are_ignored_until_renamed(units, tmp_path, django_capture_on_commit_callbacks, name):
    data = csv_bytes(people(3))
    _write(tmp_path / name, data)
    for _ in range(3):
        assert _scan(tmp_path, django_capture_on_commit_callbacks) == []
    assert RosterSync.objects.count() == 0 and RosterDropFile.objects.count() == 0
    assert (tmp_path / name).exists()  # not moved, not rejected: it is not ours yet
    os.replace(tmp_path / name, tmp_path / "hr.csv")
    assert _scan(tmp_path, django_capture_on_commit_callbacks) == []
    assert len(_scan(tmp_path, django_capture_on_commit_callbacks)) == 1


@pytest.mark.django_db
def test_synced_file_moves_to_processed_and_a_redrop_is_recorded(units, tmp_path, django_capture_on_commit_callbacks):
    data = csv_bytes(people(5))
    _write(tmp_path / "hr.csv", data)
    _scan(tmp_path, django_capture_on_commit_callbacks)
    [pk] = _scan(tmp_path, django_capture_on_commit_callbacks)
    assert not (tmp_path / "hr.csv").exists()
    assert len(list((tmp_path / "processed").iterdir())) == 1
    taken = RosterDropFile.objects.get(status=DropFileStatus.QUEUED)
    assert taken.sync_id == pk and taken.moved_to.startswith("processed/")
    # HR drops the same content again, under another name
    _write(tmp_path / "hr-again.csv", data)
    _scan(tmp_path, django_capture_on_commit_callbacks)
    assert _scan(tmp_path, django_capture_on_commit_callbacks) == []
    repeat = RosterDropFile.objects.get(status=DropFileStatus.DUPLICATE)
    assert repeat.path == "hr-again.csv" and repeat.sync_id == pk
    assert f"#{pk}" in repeat.reason and "未再次同步" in repeat.reason
    assert not (tmp_path / "hr-again.csv").exists()
    assert len(list((tmp_path / "processed").iterdir())) == 2
    assert RosterSync.objects.count() == 1


@pytest.mark.django_db
def test_refused_sync_moves_its_file_to_rejected_with_the_reason(units, tmp_path, django_capture_on_commit_callbacks):
    _write(tmp_path / "bad.csv", "工号,姓名\n0001,张三\n".encode())
    _scan(tmp_path, django_capture_on_commit_callbacks)
    [pk] = _scan(tmp_path, django_capture_on_commit_callbacks)
    assert RosterSync.objects.get(pk=pk).status in (JobStatus.REFUSED, JobStatus.FAILED)
    _scan(tmp_path, django_capture_on_commit_callbacks)  # the next scan moves it on
    rejected = sorted(p.name for p in (tmp_path / "rejected").iterdir())
    assert len(rejected) == 2 and rejected[1] == rejected[0] + ".txt"
    text = (tmp_path / "rejected" / rejected[1]).read_text(encoding="utf-8")
    assert f"名册同步 #{pk}" in text
    assert not list((tmp_path / "processed").iterdir())
    assert RosterDropFile.objects.get().status == DropFileStatus.REJECTED


@pytest.mark.django_db
def test_unsupported_file_is_rejected_with_a_note(units, tmp_path, django_capture_on_commit_callbacks):
    _write(tmp_path / "名册.docx", b"not a roster")
    _scan(tmp_path, django_capture_on_commit_callbacks)
    assert _scan(tmp_path, django_capture_on_commit_callbacks) == []
    [note] = [p for p in (tmp_path / "rejected").iterdir() if p.suffix == ".txt"]
    assert "不支持的文件类型" in note.read_text(encoding="utf-8")
    assert RosterSync.objects.count() == 0


@pytest.mark.django_db
def test_processed_and_rejected_files_are_deleted_after_the_retention(units, tmp_path, settings):
    settings.ROSTER_DROP_RETENTION_DAYS = 30
    for folder in ("processed", "rejected"):
        (tmp_path / folder).mkdir()
        _write(tmp_path / folder / "old.csv", b"x", mtime=time.time() - 31 * 86400)
        _write(tmp_path / folder / "new.csv", b"x", mtime=time.time() - 29 * 86400)
    roster_drop_dir_scan(directory=tmp_path)
    for folder in ("processed", "rejected"):
        assert sorted(p.name for p in (tmp_path / folder).iterdir()) == ["new.csv"]


@pytest.mark.django_db
def test_a_waiting_file_that_disappears_is_forgotten(units, tmp_path, django_capture_on_commit_callbacks):
    _write(tmp_path / "hr.csv", csv_bytes(people(2)))
    _scan(tmp_path, django_capture_on_commit_callbacks)
    assert RosterDropFile.objects.filter(status=DropFileStatus.PENDING).count() == 1
    (tmp_path / "hr.csv").unlink()
    _scan(tmp_path, django_capture_on_commit_callbacks)
    assert RosterDropFile.objects.count() == 0
