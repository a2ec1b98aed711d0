"""The steps the results and the exemptions imports share: reading the record's file, the
tally, the dry-run rollback, locking the exam and refreshing its candidates."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from audit.models import AuditAction
from audit.services import audit_record
from config.errors import CONFLICT, INVALID, UNMATCHED, Problem
from config.jobs import JobStatus, job_finish
from roster.matching import ID_NUMBER, STAFF_NO
from sheets.models import ImportRecord
from sheets.reader import Row, SheetError, Table, read_table
from sheets.services import (
    IMPORT_OUTCOME,
    import_record_finish,
    import_record_read,
)

from .enrolment import exams_refresh_open
from .models import Candidate, Exam

logger = logging.getLogger(__name__)

MATCH_KEYS = (STAFF_NO, ID_NUMBER)
# rows matched per step; progress is reported after each
MATCH_CHUNK = 20_000
IN_CHUNK = 2_000
MAX_REASON = 200


@dataclass
class ImportTally:
    rows: int = 0
    absent: int = 0
    applied: int = 0
    duplicates: int = 0
    enrolled: int = 0
    problems: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        def rows_of(kind: str) -> int:
            return len({p.row for p in self.problems if p.kind == kind and p.row is not None})

        return {
            "rows": self.rows,
            "applied": self.applied,
            "unmatched": rows_of(UNMATCHED),
            "conflicts": rows_of(CONFLICT),
            "invalid": rows_of(INVALID),
            "absent": self.absent,
            "duplicates": self.duplicates,
            "enrolled": self.enrolled,
        }


class DryRunRollback(Exception):
    """Raised at the end of a dry run's transaction to undo every write it made."""


@contextmanager
def import_applying(record: ImportRecord) -> Iterator[None]:
    """The import's one transaction. For a dry run it is rolled back at the end (also after a
    refusal), and the record is then stored again with the outcome it reached, as a preview:
    counts and problems exactly as the real import would report them, nothing applied."""
    if not record.options.get("dry_run"):
        with transaction.atomic():
            yield
        return
    try:
        with transaction.atomic():
            yield
            raise DryRunRollback
    except DryRunRollback:
        record.applied = False
        if record.message and not record.message.startswith(DRY_RUN_PREFIX):
            record.message = DRY_RUN_PREFIX + record.message
        # the rollback undid the finish too: the record is running again under this token
        record.finished_at = None
        job_finish(job=record, fields=IMPORT_OUTCOME)


DRY_RUN_PREFIX = "试运行（未作任何改动）："


def import_exam(record: ImportRecord) -> Exam | None:
    return Exam.objects.filter(pk=record.target_id).first()


def import_read_table(record: ImportRecord, schema: Any) -> Table:
    try:
        data = import_record_read(record=record)
    except (FileNotFoundError, ValueError):
        raise SheetError("导入文件已不存在，请重新上传。")
    table = read_table(data, filename=record.file_name, schema=schema)
    if not table.has("staff_no") and not table.has("id_number"):
        raise SheetError("缺少用于识别人员的列：需要“工号”或“身份证号”之一。", column="工号")
    return table


def import_refuse(record: ImportRecord, tally: ImportTally, message: str, problems: list[Problem], warnings: list[str]) -> None:
    import_record_finish(
        record=record, status=JobStatus.REFUSED, applied=False, counts=tally.counts(), problems=problems,
        message=message, warnings=warnings,
    )


def subtable(table: Table, rows: list[Row]) -> Table:
    return Table(fields=table.fields, headers=table.headers, rows=rows, header_row=table.header_row)


def candidates_of(exam: Exam, staff_ids: set[int]) -> dict[int, tuple[int, bool, str, Decimal | None]]:
    """staff id -> (candidate id, exempt, exempt reason, best score), in a few queries."""
    fields = ("staff_id", "pk", "exempt", "exempt_reason", "best_score")
    found: dict[int, tuple[int, bool, str, Decimal | None]] = {}
    base = Candidate.objects.filter(exam=exam).order_by()
    if len(staff_ids) > 10 * IN_CHUNK:
        rows: Iterable[tuple] = base.values_list(*fields).iterator(chunk_size=20_000)
        for staff_id, *rest in rows:
            if staff_id in staff_ids:
                found[staff_id] = tuple(rest)  # type: ignore[assignment]
        return found
    ids = sorted(staff_ids)
    for start in range(0, len(ids), IN_CHUNK):
        for staff_id, *rest in base.filter(staff_id__in=ids[start : start + IN_CHUNK]).values_list(*fields):
            found[staff_id] = tuple(rest)  # type: ignore[assignment]
    return found


def exam_lock_and_refresh(exam: Exam, today: dt.date) -> Exam:
    """Serialise imports into one exam, and bring its candidates up to date first."""
    exam = Exam.objects.select_for_update().get(pk=exam.pk)
    if not exam.is_closed(today):
        exams_refresh_open(exam_ids=[exam.pk], today=today, force=False)
    return exam


def import_missing_exam(record: ImportRecord) -> None:
    import_record_finish(
        record=record, status=JobStatus.FAILED, applied=False, counts={}, problems=[],
        message=f"考试不存在：编号 {record.target_id}。",
    )


def late_import_warning(exam: Exam, today: dt.date) -> str:
    """The warning of an import into an exam that closed more than EXAM_LATE_IMPORT_DAYS days
    ago ("" otherwise): it changes figures that have long been reported."""
    days = (today - exam.closes_on).days
    if days <= settings.EXAM_LATE_IMPORT_DAYS:
        return ""
    return (
        f"该考试已于 {exam.closes_on:%Y-%m-%d} 截止（{days} 天前，超过 {settings.EXAM_LATE_IMPORT_DAYS} 天）："
        "本次导入会改变已上报的统计数字，已记入审计日志。"
    )


def late_import_audit(record: ImportRecord, exam: Exam, warning: str) -> None:
    """The audit record of an applied late import (in the import's transaction)."""
    audit_record(
        user=record.started_by, action=AuditAction.LATE_IMPORT, username="system",
        target=f"考试 {exam.pk}（{exam.year} 年 {exam.name}）导入 {record.pk}：{record.file_name}",
        reason=warning, rows=int(record.rows or 0),
    )


def import_summary(head: str, tally: ImportTally) -> str:
    counts = tally.counts()
    return (
        f"{head}：共 {tally.rows} 行，导入 {counts['applied']}，重复 {counts['duplicates']}，缺考 {counts['absent']}，"
        f"名册中无此人 {counts['unmatched']}，冲突 {counts['conflicts']}，无效 {counts['invalid']}。"
    )
