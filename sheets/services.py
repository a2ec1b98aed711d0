"""Writes for import records: create one with its file, finish it, drop the file."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from config.errors import DomainError, Problem
from config.jobs import FINISHED, JobStatus, job_finish

from .models import ImportRecord

# A dry run started from a web page keeps its file this long, waiting for "confirm".
DRY_RUN_KEEP = dt.timedelta(days=1)
WEB = "web"


def import_record_create(
    *,
    kind: str,
    file: bytes | BinaryIO,
    file_name: str,
    target_id: int | None = None,
    options: dict[str, Any] | None = None,
    started_by: Any = None,
) -> ImportRecord:
    data = file if isinstance(file, bytes) else file.read(settings.SHEETS_MAX_BYTES + 1)
    record = ImportRecord(
        kind=kind,
        target_id=target_id,
        file_name=Path(file_name).name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        options=options or {},
        started_by=started_by if getattr(started_by, "pk", None) else None,
    )
    record.source_file.save(f"{record.sha256[:16]}{Path(file_name).suffix.lower()[:8]}", ContentFile(data), save=False)
    record.save()
    return record


def import_record_read(*, record: ImportRecord) -> bytes:
    with record.source_file.open("rb") as handle:
        return handle.read()


def import_record_finish(
    *,
    record: ImportRecord,
    status: str,
    applied: bool,
    counts: dict[str, int],
    problems: list[Problem],
    message: str = "",
    warnings: list[str] | None = None,
) -> ImportRecord:
    """Store the outcome (only its own columns, fenced by the claim's attempt number). Call
    inside the import's transaction so that the record and the data it describes commit
    together, and a run that was taken over rolls back (``JobLost``)."""
    record.status = status
    record.applied = applied
    record.counts = counts
    record.problems = [p.as_dict() for p in problems]
    record.message = message
    record.warnings = warnings or []
    job_finish(job=record, fields=IMPORT_OUTCOME)
    return record


# what an import's run writes on its record
IMPORT_OUTCOME = ("applied", "counts", "problems", "warnings", "rows", "target_id")


def import_record_awaits_confirmation(record: ImportRecord) -> bool:
    """A dry run from a web page that passed: its file stays until the user confirms it (the
    confirmed import runs on that very file) or until it is ``DRY_RUN_KEEP`` old."""
    options = record.options or {}
    return bool(options.get("dry_run")) and options.get("source") == WEB and record.status == JobStatus.SUCCEEDED


def import_record_discard_file(*, record: ImportRecord) -> None:
    """Uploaded files hold personal data: once the import has finished, only the record stays
    (a web dry run keeps its file for the confirm step)."""
    if record.status in FINISHED and record.source_file and not import_record_awaits_confirmation(record):
        record.source_file.delete(save=False)
        ImportRecord.objects.filter(pk=record.pk).update(source_file="")


def import_record_confirm_refusal(*, record: ImportRecord, now: dt.datetime | None = None) -> str:
    """Why this record cannot be confirmed ("" when it can): only a web dry run that passed,
    still holding its file, less than ``DRY_RUN_KEEP`` old."""
    options = record.options or {}
    if not options.get("dry_run") or options.get("source") != WEB:
        return "只能确认网页上传的试运行。"
    if record.status not in FINISHED:
        return "试运行尚未完成。"
    if record.status != JobStatus.SUCCEEDED:
        return "试运行未通过，不能确认：请改正文件后重新上传。"
    if (record.counts or {}).get("applied") == 0:
        return "没有可导入的行（各行已是最新，或都有问题），无需确认。"
    if not record.source_file or record.created_at < (now or timezone.now()) - DRY_RUN_KEEP:
        return "该试运行已确认过或已超过一天，请重新上传文件。"
    return ""


def import_record_take_file(*, record: ImportRecord, now: dt.datetime | None = None) -> bytes:
    """For confirming a web dry run: lock it, check it may be confirmed, and hand over its
    file's bytes. The dry run gives its file up (deleted once the caller's transaction
    commits), so it can be confirmed once. Call inside a transaction."""
    locked = ImportRecord.objects.select_for_update().filter(pk=record.pk).first()
    refusal = import_record_confirm_refusal(record=locked, now=now) if locked is not None else "试运行不存在。"
    if refusal:
        raise DomainError(refusal)
    try:
        data = import_record_read(record=locked)
    except (FileNotFoundError, ValueError):
        raise DomainError("试运行的文件已不存在，请重新上传。")
    upload_delete_on_commit(file=locked.source_file)
    ImportRecord.objects.filter(pk=locked.pk).update(source_file="")
    return data


def upload_delete_on_commit(*, file: Any) -> None:
    """Delete a stored upload once the current transaction commits (never before: a rollback
    must not leave a record pointing at a file that is gone)."""
    storage, name = file.storage, file.name
    transaction.on_commit(lambda: storage.delete(name))


def import_record_discard_stale_files(*, now: dt.datetime | None = None) -> int:
    """Delete the files finished imports still hold: web dry runs nobody confirmed within
    ``DRY_RUN_KEEP``. Returns how many files went. Run by Celery beat."""
    cutoff = (now or timezone.now()) - DRY_RUN_KEEP
    stale = list(
        ImportRecord.objects.filter(status__in=FINISHED, created_at__lt=cutoff).exclude(source_file="")
        .exclude(source_file__isnull=True).only("pk", "source_file")
    )
    for record in stale:
        record.source_file.delete(save=False)
    ImportRecord.objects.filter(pk__in=[r.pk for r in stale]).update(source_file="")
    return len(stale)
