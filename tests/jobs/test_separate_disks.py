"""A worker on another machine runs the import the web server received: the upload waits in the
database, not on the web server's disk. The worker here has a folder of its own, as it would on
another machine, and the web side's folder is another one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from config.jobs import JobStatus
from roster.models import RosterSync, Staff, SyncSource
from roster.sync import roster_sync_create, roster_sync_enqueue
from sheets.models import StoredFile
from tests.conftest import requires_real_services
from tests.helpers import csv_bytes, own_queues, people, queue_env, queue_prefix, stored_upload, worker_queue_arg

ROOT = Path(__file__).resolve().parents[2]


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@requires_real_services
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_with_its_own_disk_runs_the_sync_the_web_received(units, tmp_path):
    web_disk, worker_disk = tmp_path / "web", tmp_path / "worker"
    prefix = queue_prefix()
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
                        f"/{database['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        **queue_env(prefix),
        "PRIVATE_UPLOAD_ROOT": str(worker_disk),
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
    }
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "1", "-Q", worker_queue_arg(prefix),
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    queues = own_queues(prefix)
    queues.__enter__()
    try:
        deadline = time.time() + 60
        while "ready." not in log.read_text():
            assert process.poll() is None and time.time() < deadline, log.read_text()[-2000:]
            time.sleep(0.3)
        with transaction.atomic():
            record = roster_sync_create(file=csv_bytes(people(30)), file_name="r.csv", source=SyncSource.API)
            upload = stored_upload(record.source_file)
            assert StoredFile.objects.filter(name=upload.name).exists()  # in the database, on no disk
            roster_sync_enqueue(sync=record)
        deadline = time.time() + 60
        while not record.is_finished and time.time() < deadline:
            time.sleep(0.3)
            record.refresh_from_db()
        assert record.status == JobStatus.SUCCEEDED, (record.message, log.read_text()[-2000:])
        assert (record.created, record.applied) == (30, True)
        assert Staff.objects.filter(is_active=True).count() == 30
        while record.source_file and time.time() < deadline:  # the file goes just after the finish
            time.sleep(0.2)
            record.refresh_from_db()
        assert not record.source_file and not upload.exists()
        assert not StoredFile.objects.exists()
        assert _files_under(web_disk) == [] and _files_under(worker_disk) == []
        assert RosterSync.objects.count() == 1
    finally:
        queues.__exit__(None, None, None)
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
