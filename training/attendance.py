"""Attendance: sign-in sheets imported, lists recorded through the API, and status changes.
Every change announces ``figures_changed(kind="training", year=...)`` on commit."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.errors import AMBIGUOUS, CONFLICT, DUPLICATE, INVALID, UNMATCHED, DomainError, Problem
from config.events import TRAINING, figures_changed
from config.jobs import JobStatus, job_run
from roster.matching import ID_NUMBER, NAME_UNIT, PHONE, STAFF_NO, match_rows
from roster.models import Staff, Unit
from sheets.models import ImportKind, ImportRecord, SupplyKind
from sheets.reader import SheetError, Table, read_table
from sheets.services import import_record_create, import_record_discard_file, import_record_finish
from sheets.voiding import supply_record_sql

from .columns import KEY_FIELDS, SIGNIN_SCHEMA, STATUS_HELP, parse_signed_in_at, parse_status
from .events import training_event_changed, training_event_clean, training_event_find_or_create
from .models import (
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    TrainingEvent,
)
from .selectors import staff_units_on

logger = logging.getLogger(__name__)

SIGNIN_KEYS = (STAFF_NO, ID_NUMBER, PHONE, NAME_UNIT)
_CHUNK = 2000


@dataclass
class AttendanceImportResult:
    import_id: int | None
    event_id: int | None
    event_created: bool = False
    rows: int = 0
    applied: int = 0
    already_recorded: int = 0
    duplicates: int = 0
    ambiguous: int = 0
    unmatched: int = 0
    invalid: int = 0
    conflicts: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "applied": self.applied,
            "already_recorded": self.already_recorded,
            "duplicates": self.duplicates,
            "ambiguous": self.ambiguous,
            "unmatched": self.unmatched,
            "invalid": self.invalid,
            "conflicts": self.conflicts,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "ambiguous": self.ambiguous,
            "unmatched": self.unmatched,
            "invalid": self.invalid,
            "errors": [p.as_dict() for p in self.errors],
            "conflicts": self.conflicts,
            "already_recorded": self.already_recorded,
            "rows": self.rows,
            "event_created": self.event_created,
            "import_id": self.import_id,
            "warnings": self.warnings,
        }

    @property
    def message(self) -> str:
        return (
            f"签到表导入完成：共 {self.rows} 行，新记录 {self.applied} 人，已有记录 {self.already_recorded} 人，"
            f"重复 {self.duplicates} 行，无法确定 {self.ambiguous} 行，未找到 {self.unmatched} 行，"
            f"信息冲突 {self.conflicts} 行，无效 {self.invalid} 行。"
        )


def read_signin_sheet(data: bytes, *, file_name: str) -> Table:
    """Read a sign-in sheet; refuse a file with no column to match people by."""
    table = read_table(data, filename=file_name, schema=SIGNIN_SCHEMA)
    if not any(table.has(f) for f in KEY_FIELDS) and not table.has("unit"):
        raise SheetError(
            "签到表无法匹配人员：除“姓名”外，还需要“单位”、“工号”、“身份证号”或“手机号”中的至少一列。",
            column="单位",
        )
    return table


def attendance_import(
    *, event: TrainingEvent, data: bytes, file_name: str, started_by: Any = None, within: Unit | None = None
) -> AttendanceImportResult:
    """Record a sign-in sheet's attendance for an existing event.

    Raises SheetError when the file cannot be read (the attempt is still recorded). Row
    problems never stop the import: the rows that resolve to one person are recorded, every
    other row is reported. People already recorded for the event are left as they are, so
    importing the same sheet again adds nothing.

    ``within`` (a unit liaison's upload): only staff whose unit lies in that unit's subtree are
    recorded. Every row that does not resolve to one of them (unknown, outside the subtree,
    conflicting or ambiguous) is reported alike, as unmatched with one message, so that an
    upload tells nothing about people outside the subtree."""
    record = import_record_create(
        kind=ImportKind.ATTENDANCE, file=data, file_name=file_name, target_id=event.pk, started_by=started_by,
        options={"within": within.code} if within is not None else None,
    )
    return _run_import(record=record, data=data, file_name=file_name, event=event, within=within)


def attendance_import_sheet(
    *,
    data: bytes,
    file_name: str,
    title: str,
    kind: str,
    date: dt.date,
    hours: Decimal | int | float | str,
    organiser: Unit | None = None,
    started_by: Any = None,
) -> AttendanceImportResult:
    """The command line's path: find the event by title and date or create it, then import.
    Nothing is created when the file cannot be read."""
    training_event_clean(title=title, kind=kind, hours=hours, date=date)
    record = import_record_create(
        kind=ImportKind.ATTENDANCE, file=data, file_name=file_name, started_by=started_by,
        options={"title": title, "kind": kind, "date": date.isoformat(), "hours": str(hours),
                 "organiser": organiser.code if organiser else None},
    )
    spec = {"title": title, "kind": kind, "date": date, "hours": hours, "organiser": organiser}
    return _run_import(record=record, data=data, file_name=file_name, event_spec=spec)


def _run_import(
    *,
    record: ImportRecord,
    data: bytes,
    file_name: str,
    event: TrainingEvent | None = None,
    event_spec: dict[str, Any] | None = None,
    within: Unit | None = None,
) -> AttendanceImportResult:
    """Run the sheet in this process under the job helper's lease and heartbeat: if the
    process dies, the sweeper ends the record as failed and deletes its file."""
    outcome: dict[str, Any] = {}

    def work(record: ImportRecord) -> None:
        outcome.clear()
        try:
            table = read_signin_sheet(data, file_name=file_name)
        except SheetError as exc:
            import_record_finish(
                record=record, status=JobStatus.REFUSED, applied=False, counts={}, problems=exc.problems,
                message=exc.message,
            )
            outcome["refused"] = exc
            return
        record.rows = record.progress_total = len(table.rows)
        with transaction.atomic():
            warnings = list(table.warnings)
            created = False
            target = event
            if target is None:
                assert event_spec is not None
                target, created, more = training_event_find_or_create(**event_spec)
                warnings += more
                record.target_id = target.pk
            else:
                # imports and QR sign-ins of one event queue up here, so counts stay exact
                TrainingEvent.objects.select_for_update().filter(pk=target.pk).first()
            result = _apply_sheet(event=target, table=table, record=record, within=within)
            result.event_created = created
            result.warnings = warnings
            import_record_finish(
                record=record, status=JobStatus.SUCCEEDED, applied=result.applied > 0, counts=result.counts(),
                problems=result.errors, message=result.message, warnings=warnings,
            )
            if result.applied:
                training_event_changed(event=target)
        outcome["result"] = result

    record = job_run(job=record, work=work, failed=IMPORT_FAILED, failed_fields={"applied": False})
    import_record_discard_file(record=record)
    if "refused" in outcome:
        raise outcome["refused"]
    if "result" in outcome and record.status == JobStatus.SUCCEEDED:
        return outcome["result"]
    raise DomainError(record.message or IMPORT_FAILED, code="unavailable")


IMPORT_FAILED = "导入失败：发生内部错误，未记录任何出勤。"


OUTSIDE_WITHIN = "在您负责的单位范围内找不到与本行信息一致的人员。"


def _confine(
    *, table: Table, matched: list[Any], problems: list[Problem], within: Unit
) -> tuple[list[Any], list[Problem]]:
    """Keep the rows matched to staff of ``within``'s subtree (by their unit now); report every
    other matched row, and every matching problem (unmatched, conflict, ambiguous: their
    messages speak of people on the roster), as unmatched with one message. Problems with
    the row's own cells (invalid) stay as they are. One query."""
    inside = set(Unit.objects.filter(path__startswith=within.path).values_list("id", flat=True))
    kept = [m for m in matched if m.staff.unit_id in inside]
    confined = [p if p.kind == INVALID else Problem(p.row, p.column, p.value, OUTSIDE_WITHIN, UNMATCHED) for p in problems]
    confined += [
        Problem(m.row.number, table.label("name"), table.value(m.row, "name"), OUTSIDE_WITHIN, UNMATCHED)
        for m in matched
        if m.staff.unit_id not in inside
    ]
    return kept, confined


def _apply_sheet(
    *, event: TrainingEvent, table: Table, record: ImportRecord, within: Unit | None = None
) -> AttendanceImportResult:
    result = AttendanceImportResult(import_id=record.pk, event_id=event.pk, rows=len(table.rows))
    problems: list[Problem] = []

    # status and time cells first: a row we cannot read is reported once, as invalid
    readable = []
    row_status: dict[int, tuple[str, dt.datetime | None]] = {}
    zone = timezone.get_default_timezone()
    for row in table.rows:
        status_text = table.value(row, "status")
        status = parse_status(status_text)
        if status is None:
            problems.append(Problem(row.number, table.label("status"), status_text, f"出勤情况“{status_text}”无法识别，{STATUS_HELP}", INVALID))
            continue
        time_text = table.value(row, "signed_in_at")
        when = parse_signed_in_at(time_text, on=event.date)
        if when is False:
            problems.append(Problem(
                row.number, table.label("signed_in_at"), time_text,
                "签到时间无法识别，应为“9:05”或“2024-05-20 9:05”这样的时间。", INVALID,
            ))
            continue
        row_status[row.number] = (status, timezone.make_aware(when, zone) if when else None)
        readable.append(row)

    subset = Table(fields=table.fields, headers=table.headers, rows=readable, header_row=table.header_row)
    matched = match_rows(subset, keys=SIGNIN_KEYS)
    found, match_problems = matched.matched, matched.problems
    if within is not None:
        found, match_problems = _confine(table=table, matched=found, problems=match_problems, within=within)
    problems += match_problems

    # the same person twice on one sheet counts once: the first row stands
    first_row: dict[int, int] = {}
    chosen = []
    for item in sorted(found, key=lambda m: m.row.number):
        if item.staff.id in first_row:
            problems.append(Problem(
                item.row.number, table.label("name"), table.value(item.row, "name"),
                f"与第 {first_row[item.staff.id]} 行是同一人，只计一次。", DUPLICATE,
            ))
            continue
        first_row[item.staff.id] = item.row.number
        chosen.append(item)

    ids = [item.staff.id for item in chosen]
    existing: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        existing.update(
            Attendance.objects.filter(event=event, staff_id__in=ids[start : start + _CHUNK]).values_list("staff_id", flat=True)
        )
    new = [item for item in chosen if item.staff.id not in existing]
    units = staff_units_on(staff=[(item.staff.id, item.staff.unit_id) for item in new], day=event.date)
    now = timezone.now()
    Attendance.objects.bulk_create(
        [
            Attendance(
                event=event, staff_id=item.staff.id, unit_id=units[item.staff.id],
                status=row_status[item.row.number][0], signed_in_at=row_status[item.row.number][1],
                source=AttendanceSource.SHEET, import_record=record, created_at=now,
            )
            for item in new
        ],
        batch_size=1000,
    )
    # provenance: every attendance this sheet supplied, recorded now or already there
    attendance = Attendance._meta.db_table
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        supply_record_sql(
            record=record, kind=SupplyKind.ATTENDANCE,
            select_sql=f"""SELECT a.id AS object_id, CASE WHEN a.import_record_id = %s THEN %s ELSE %s END AS applied
                             FROM {attendance} a WHERE a.event_id = %s AND a.staff_id IN ({", ".join(["%s"] * len(chunk))})""",
            params=[record.pk, True, False, event.pk, *chunk],
        )

    problems.sort(key=lambda p: (p.row or 0))
    result.errors = problems
    result.applied = len(new)
    result.already_recorded = len(chosen) - len(new)

    def rows_of(kind: str) -> int:
        return len({p.row for p in problems if p.kind == kind})

    result.duplicates = rows_of(DUPLICATE)
    result.ambiguous = rows_of(AMBIGUOUS)
    result.unmatched = rows_of(UNMATCHED)
    result.invalid = rows_of(INVALID)
    result.conflicts = rows_of(CONFLICT)
    return result


# --- manual lists (the API's JSON list) -------------------------------------------------


@dataclass
class AttendanceRecordResult:
    event_id: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"event_id": self.event_id, "created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def attendance_record(
    *,
    event: TrainingEvent,
    staff_ids: Sequence[int],
    status: str,
    source: str = AttendanceSource.MANUAL,
    signed_in_at: dt.datetime | None = None,
) -> AttendanceRecordResult:
    """Record these people's attendance of the event with one status. New people get a record
    (their unit frozen at the event's date); people already recorded get the status. Unknown
    ids refuse the whole list."""
    if status not in AttendanceStatus.values:
        raise DomainError(f"出勤情况“{status}”无效，应为：{'、'.join(AttendanceStatus.values)}。")
    if source not in AttendanceSource.values:
        raise DomainError(f"来源“{source}”无效，应为：{'、'.join(AttendanceSource.values)}。")
    wanted = list(dict.fromkeys(int(i) for i in staff_ids))
    result = AttendanceRecordResult(event_id=event.pk)
    with transaction.atomic():
        TrainingEvent.objects.select_for_update().filter(pk=event.pk).first()
        known: dict[int, int] = {}
        existing: dict[int, str] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            known.update(Staff.objects.filter(id__in=chunk).values_list("id", "unit_id"))
            existing.update(Attendance.objects.filter(event=event, staff_id__in=chunk).values_list("staff_id", "status"))
        unknown = [i for i in wanted if i not in known]
        if unknown:
            shown = "、".join(str(i) for i in unknown[:10]) + ("等" if len(unknown) > 10 else "")
            raise DomainError(
                f"{len(unknown)} 个人员编号不存在：{shown}；未作任何改动。",
                problems=[Problem(None, "staff_id", str(i), "人员不存在。", UNMATCHED) for i in unknown],
            )
        new = [i for i in wanted if i not in existing]
        changed = [i for i, old in existing.items() if old != status]
        units = staff_units_on(staff=[(i, known[i]) for i in new], day=event.date)
        now = timezone.now()
        Attendance.objects.bulk_create(
            [
                Attendance(event=event, staff_id=i, unit_id=units[i], status=status, source=source,
                           signed_in_at=signed_in_at, created_at=now)
                for i in new
            ],
            batch_size=1000,
        )
        for start in range(0, len(changed), _CHUNK):
            Attendance.objects.filter(event=event, staff_id__in=changed[start : start + _CHUNK]).update(status=status)
        result.created, result.updated = len(new), len(changed)
        result.unchanged = len(existing) - len(changed)
        if new or changed:
            training_event_changed(event=event)
    return result


def attendances_set_status(*, attendances: QuerySet[Attendance], status: str) -> int:
    """Give these existing attendance records one status (the admin's actions), whatever the
    number of records and events: the events are locked as ``attendance_record`` locks them,
    then one UPDATE. Returns how many records changed."""
    if status not in AttendanceStatus.values:
        raise DomainError(f"出勤情况“{status}”无效，应为：{'、'.join(AttendanceStatus.values)}。")
    with transaction.atomic():
        # read before the update: the caller's filter may be on the status being changed
        events = dict(
            attendances.order_by().values_list("event_id", "event__date__year").distinct()
        )
        if not events:
            return 0
        list(TrainingEvent.objects.select_for_update().filter(pk__in=list(events)).order_by("pk").values_list("pk"))
        changed = Attendance.objects.filter(pk__in=attendances.order_by().values("pk")).exclude(
            status=status
        ).update(status=status)
        if changed:
            for year in sorted(set(events.values())):
                figures_changed(kind=TRAINING, year=year)
    return changed
