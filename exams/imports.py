"""An exam import's lifecycle: the record, its queueing, the run (results or exemptions), and
the confirmation of a web dry run."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction

from config.errors import DomainError, NotFound
from config.jobs import job_enqueue, job_run
from sheets.models import ImportKind, ImportRecord
from sheets.outcome import ImportOutcome
from sheets.services import (
    import_record_create,
    import_record_discard_file,
    import_record_take_file,
)

from .exemptions import exemptions_import_apply
from .models import EXAM_IMPORT_KINDS, Exam
from .results import results_import_apply

logger = logging.getLogger(__name__)



@dataclass
class ExamImportResult(ImportOutcome):
    kind: str = ""
    applied: int = 0
    unmatched: int = 0
    conflicts: int = 0
    invalid: int = 0
    absent: int = 0
    duplicates: int = 0
    enrolled: int = 0

    @classmethod
    def of(cls, record: ImportRecord) -> ExamImportResult:
        return cls(kind=record.kind, **cls.record_fields(record, COUNT_KEYS))

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "status": self.status,
            "rows": self.rows,
            "applied": self.applied,
            "unmatched": self.unmatched,
            "conflicts": self.conflicts,
            "invalid": self.invalid,
            "absent": self.absent,
            "duplicates": self.duplicates,
            "enrolled": self.enrolled,
            "errors": self.errors,
            "warnings": self.warnings,
            "message": self.message,
        }


COUNT_KEYS = ("applied", "unmatched", "conflicts", "invalid", "absent", "duplicates", "enrolled")


def exam_get(*, exam_id: int | str) -> Exam:
    try:
        pk = int(exam_id)
    except (TypeError, ValueError):
        raise NotFound(f"考试编号应为整数，而不是“{exam_id}”。")
    exam = Exam.objects.filter(pk=pk).first()
    if exam is None:
        raise NotFound(f"考试不存在：编号 {pk}。")
    return exam


def exam_import_create(
    *,
    exam: Exam,
    kind: str,
    file: bytes | BinaryIO,
    file_name: str,
    strict: bool = False,
    started_by: Any = None,
    dry_run: bool = False,
    source: str = "",
) -> ImportRecord:
    """Record an import request and keep its file until the import has run.

    ``dry_run``: the import runs in full (reading, matching, the checks against the exam's
    candidates, the writes) inside a transaction that is then rolled back; the record keeps
    the counts and problems, as a preview. A passed dry run with ``source="web"`` keeps its
    file for ``exam_import_confirm``."""
    if kind not in EXAM_IMPORT_KINDS:
        raise DomainError(f"不支持的导入类型“{kind}”。")
    options: dict[str, Any] = {"strict": strict}
    if dry_run:
        options["dry_run"] = True
    if source:
        options["source"] = source
    return import_record_create(
        kind=kind, file=file, file_name=file_name, target_id=exam.pk, options=options, started_by=started_by
    )


def exam_import_confirm(*, dry_run_record: ImportRecord, started_by: Any = None, now: dt.datetime | None = None) -> ImportRecord:
    """Apply what a web dry run checked: a new import of the very same file with the same
    options, queued for a worker once this commits. The dry run gives its file up, so it can
    be confirmed once; a refused dry run, or one more than a day old, cannot be."""
    if dry_run_record.kind not in EXAM_IMPORT_KINDS:
        raise DomainError("这不是考试成绩或免考名单的导入。")
    with transaction.atomic():
        data = import_record_take_file(record=dry_run_record, now=now)
        exam = exam_get(exam_id=dry_run_record.target_id)
        record = exam_import_create(
            exam=exam,
            kind=dry_run_record.kind,
            file=data,
            file_name=dry_run_record.file_name,
            strict=bool(dry_run_record.options.get("strict")),
            started_by=started_by,
            source=str(dry_run_record.options.get("source") or ""),
        )
        exam_import_enqueue(record=record)
    return record


def exam_import_enqueue(*, record: ImportRecord) -> None:
    """Run the import in a worker once the record has committed."""
    job_enqueue(kind="exam_import", pk=record.pk)


def exam_import_file(*, exam_id: int | str, path: str | Path, kind: str, strict: bool = False) -> ExamImportResult:
    """Import a file on disk now, in this process (the command line's path)."""
    exam = exam_get(exam_id=exam_id)
    path = Path(path)
    if not path.is_file():
        raise DomainError(f"文件不存在：{path}")
    if path.stat().st_size > settings.SHEETS_MAX_BYTES:
        raise DomainError(f"文件超过大小上限（{settings.SHEETS_MAX_BYTES // (1024 * 1024)} MB）。")
    record = exam_import_create(exam=exam, kind=kind, file=path.read_bytes(), file_name=path.name, strict=strict)
    return exam_import_run(record=record)


def exam_import_run(*, record: ImportRecord) -> ExamImportResult:
    """Run a recorded import (results or exemptions): claim it, read, match, then apply in
    one transaction. Safe to call twice: a finished record is returned as it is."""
    record = job_run(job=record, work=_apply, failed="导入失败：发生内部错误，未作任何改动。",
                     failed_fields={"applied": False})
    import_record_discard_file(record=record)
    return ExamImportResult.of(record)


def _apply(record: ImportRecord) -> None:
    if record.kind == ImportKind.EXAM_RESULTS:
        results_import_apply(record)
    elif record.kind == ImportKind.EXAM_EXEMPTIONS:
        exemptions_import_apply(record)
    else:
        raise ValueError(f"not an exam import: {record.kind}")
