"""Writes started from the pages: each stores its record and enqueues its task on commit,
through the apps' own services (the same ones the command line and the API call)."""

from __future__ import annotations

from typing import Any, BinaryIO

from django.db import transaction

from exams.imports import exam_import_create, exam_import_enqueue
from exams.models import Exam
from roster.models import RosterSync, SyncSource
from roster.sync import roster_sync_submit
from sheets.models import ImportRecord
from sheets.services import WEB


def roster_dry_run_start(
    *,
    file: bytes | BinaryIO,
    file_name: str,
    mode: str,
    skip_invalid: bool,
    allow_mass_deactivation: bool,
    started_by: Any,
    root: Any = None,
) -> RosterSync:
    """Step one of a sync from the page: a dry run of the uploaded file. When it passes, it
    keeps the file for ``roster_sync_confirm``."""
    return roster_sync_submit(
        file=file,
        file_name=file_name,
        mode=mode,
        dry_run=True,
        skip_invalid=skip_invalid,
        allow_mass_deactivation=allow_mass_deactivation,
        source=SyncSource.WEB,
        started_by=started_by,
        root=root,
    )


def exam_import_dry_run_start(
    *, exam: Exam, kind: str, file: bytes | BinaryIO, file_name: str, strict: bool, started_by: Any
) -> ImportRecord:
    """Step one of a results or exemptions import from the page: a dry run. When it passes,
    it keeps the file for ``exam_import_confirm``."""
    with transaction.atomic():
        record = exam_import_create(
            exam=exam, kind=kind, file=file, file_name=file_name, strict=strict, started_by=started_by,
            dry_run=True, source=WEB,
        )
        exam_import_enqueue(record=record)
    return record
