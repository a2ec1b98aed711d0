"""Writes for import records: create one with its file, finish it, drop the file."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from config.errors import Problem
from config.jobs import JobStatus

from .models import ImportRecord


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
    """Store the outcome. Call inside the import's transaction so that the record and the
    data it describes commit together."""
    record.status = status
    record.applied = applied
    record.counts = counts
    record.problems = [p.as_dict() for p in problems]
    record.message = message
    record.warnings = warnings or []
    record.finished_at = timezone.now()
    record.progress_done = record.progress_total
    record.save()
    return record


def import_record_discard_file(*, record: ImportRecord) -> None:
    """Uploaded files hold personal data: once the import has finished, only the record stays."""
    if record.status in (JobStatus.SUCCEEDED, JobStatus.REFUSED, JobStatus.FAILED) and record.source_file:
        record.source_file.delete(save=False)
        ImportRecord.objects.filter(pk=record.pk).update(source_file="")
