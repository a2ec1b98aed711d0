"""Writes for training: events, attendance from sign-in sheets, QR sign-in and manual lists.

The command line, the API, the sign-in page and the admin all call these functions. Every
change to attendance announces ``figures_changed(kind="training", year=...)`` on commit.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.errors import AMBIGUOUS, CONFLICT, DUPLICATE, INVALID, UNMATCHED, DomainError, Problem
from config.events import TRAINING, figures_changed
from config.jobs import JobStatus, job_claim
from roster.matching import ID_NUMBER, NAME_UNIT, PHONE, STAFF_NO, match_rows
from roster.models import Staff, Unit
from sheets.models import ImportKind, ImportRecord
from sheets.reader import SheetError, Table, read_table
from sheets.services import import_record_create, import_record_discard_file, import_record_finish

from .columns import KEY_FIELDS, SIGNIN_SCHEMA, STATUS_HELP, parse_signed_in_at, parse_status
from .models import (
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    Audience,
    StudyHoursRequirement,
    TrainingEvent,
    TrainingKind,
    new_signin_token,
)
from .selectors import staff_units_on

logger = logging.getLogger(__name__)

SIGNIN_KEYS = (STAFF_NO, ID_NUMBER, PHONE, NAME_UNIT)
_CHUNK = 2000


# --- events -----------------------------------------------------------------------------


def training_event_check(*, title: str, kind: str, hours: Decimal | int | float | str, date: dt.date | None) -> None:
    """The rules an event's own fields must meet, for forms that save events themselves (the
    admin); raises DomainError."""
    _clean_event(title=title, kind=kind, hours=hours, date=date)


def _clean_event(
    *, title: str, kind: str, hours: Decimal | int | float | str, date: dt.date | None = None
) -> tuple[str, str, Decimal]:
    if date is not None and not 2000 <= date.year <= 2100:
        # a typo such as 0204 or 9999: no training then, and the year's figures could not list it
        raise DomainError(f"活动日期“{date:%Y-%m-%d}”无效：年份应在 2000 到 2100 之间。")
    title = (title or "").strip()
    if not title:
        raise DomainError("培训活动名称不能为空。")
    if len(title) > 200:
        raise DomainError("培训活动名称不能超过 200 个字符。")
    if kind not in TrainingKind.values:
        raise DomainError(f"培训类型“{kind}”无效，应为：{'、'.join(TrainingKind.values)}。")
    try:
        value = Decimal(str(hours)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(f"学时“{hours}”不是有效的数字。")
    if not value.is_finite() or value <= 0 or value >= 1000:
        raise DomainError(f"学时“{hours}”无效：应为大于 0 的数字（可以是小数）。")
    return title, kind, value


def training_event_create(
    *,
    title: str,
    kind: str,
    date: dt.date,
    hours: Decimal | int | float | str,
    organiser: Unit | None = None,
    speaker: str = "",
    location: str = "",
    audience: str = Audience.DISTRICT,
    audience_units: Iterable[Unit] = (),
    signin_opens_at: dt.datetime | None = None,
    signin_closes_at: dt.datetime | None = None,
) -> TrainingEvent:
    title, kind, value = _clean_event(title=title, kind=kind, hours=hours, date=date)
    if audience not in Audience.values:
        raise DomainError(f"参加对象“{audience}”无效，应为：{'、'.join(Audience.values)}。")
    if signin_opens_at and signin_closes_at and signin_closes_at <= signin_opens_at:
        raise DomainError("签到截止时间必须晚于签到开始时间。")
    if TrainingEvent.objects.filter(title=title, date=date).exists():
        raise DomainError(f"{date:%Y-%m-%d} 已有名为“{title}”的培训活动。")
    event = TrainingEvent.objects.create(
        title=title, kind=kind, date=date, hours=value, organiser=organiser, speaker=speaker, location=location,
        audience=audience, signin_opens_at=signin_opens_at, signin_closes_at=signin_closes_at,
    )
    units = list(audience_units)
    if units:
        event.audience_units.set(units)
    return event


def training_event_find_or_create(
    *,
    title: str,
    kind: str,
    date: dt.date,
    hours: Decimal | int | float | str,
    organiser: Unit | None = None,
) -> tuple[TrainingEvent, bool, list[str]]:
    """The event with this title and date, or a new one. An existing event keeps its own kind
    and hours; a difference is returned as a warning, never applied silently."""
    title, kind, value = _clean_event(title=title, kind=kind, hours=hours, date=date)
    with transaction.atomic():
        event = TrainingEvent.objects.select_for_update().filter(title=title, date=date).first()
        if event is None:
            try:
                with transaction.atomic():
                    created = training_event_create(title=title, kind=kind, date=date, hours=value, organiser=organiser)
                return created, True, []
            except (IntegrityError, DomainError):
                # another import created it a moment ago: use that one
                event = TrainingEvent.objects.select_for_update().get(title=title, date=date)
    warnings = []
    if event.kind != kind:
        warnings.append(f"已有同名同日的培训活动，其类型为“{event.get_kind_display()}”，未按本次指定的类型修改。")
    if event.hours != value:
        warnings.append(f"已有同名同日的培训活动，其学时为 {event.hours}，未按本次指定的学时 {value} 修改。")
    return event, False, warnings


def training_event_rotate_token(*, event: TrainingEvent) -> TrainingEvent:
    """Give the event a new sign-in URL (the old one, and its printed QR codes, stop working)."""
    event.signin_token = new_signin_token()
    event.save(update_fields=["signin_token"])
    return event


def training_events_rotate_tokens(*, event_ids: Iterable[int]) -> int:
    """``training_event_rotate_token`` for many events at once (the admin's action): one bulk
    UPDATE per 500 events. Returns how many events got a new URL."""
    changed = [TrainingEvent(pk=pk, signin_token=new_signin_token()) for pk in set(event_ids)]
    TrainingEvent.objects.bulk_update(changed, ["signin_token"], batch_size=500)
    return len(changed)


def training_event_changed(*, event: TrainingEvent, previous_year: int | None = None) -> None:
    """Announce that an event's figures may have changed (its date, hours or attendance)."""
    figures_changed(kind=TRAINING, year=event.date.year)
    if previous_year is not None and previous_year != event.date.year:
        figures_changed(kind=TRAINING, year=previous_year)


def study_hours_requirement_set(*, year: int, hours: Decimal | int | str, note: str = "") -> StudyHoursRequirement:
    try:
        value = Decimal(str(hours))
    except InvalidOperation:
        raise DomainError(f"学时“{hours}”不是有效的数字。")
    if not value.is_finite() or value < 0:
        raise DomainError("应修学时不能为负数。")
    requirement, _ = StudyHoursRequirement.objects.update_or_create(year=year, defaults={"hours": value, "note": note})
    figures_changed(kind=TRAINING, year=year)
    return requirement


# --- sign-in sheets ---------------------------------------------------------------------


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
    _clean_event(title=title, kind=kind, hours=hours, date=date)
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
    job_claim(model=ImportRecord, pk=record.pk)
    record.refresh_from_db()
    try:
        try:
            table = read_signin_sheet(data, file_name=file_name)
        except SheetError as exc:
            import_record_finish(
                record=record, status=JobStatus.REFUSED, applied=False, counts={}, problems=exc.problems,
                message=exc.message,
            )
            raise
        record.rows = record.progress_total = len(table.rows)
        with transaction.atomic():
            warnings = list(table.warnings)
            created = False
            if event is None:
                assert event_spec is not None
                event, created, more = training_event_find_or_create(**event_spec)
                warnings += more
                record.target_id = event.pk
            else:
                # imports and QR sign-ins of one event queue up here, so counts stay exact
                TrainingEvent.objects.select_for_update().filter(pk=event.pk).first()
            result = _apply_sheet(event=event, table=table, record=record, within=within)
            result.event_created = created
            result.warnings = warnings
            import_record_finish(
                record=record, status=JobStatus.SUCCEEDED, applied=result.applied > 0, counts=result.counts(),
                problems=result.errors, message=result.message, warnings=warnings,
            )
            if result.applied:
                training_event_changed(event=event)
        return result
    except SheetError:
        raise
    except Exception:
        logger.exception("attendance import %s failed", record.pk)
        ImportRecord.objects.filter(pk=record.pk).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), applied=False,
            message="导入失败：发生内部错误，未记录任何出勤。",
        )
        raise
    finally:
        record.refresh_from_db()
        import_record_discard_file(record=record)


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


# --- QR self sign-in --------------------------------------------------------------------

SIGNED_IN = "signed_in"
ALREADY = "already"
REFUSED = "refused"
CLOSED = "closed"

_LAST4 = re.compile(r"^[0-9X]{4}$")


@dataclass(frozen=True)
class SelfSignIn:
    outcome: str
    signed_in_at: dt.datetime | None = None
    # the person's name with the given name masked ("张*"), to confirm who signed in
    display_name: str = ""


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def clean_last4(value: str) -> str | None:
    value = (value or "").strip().upper().replace("x", "X")
    return value if _LAST4.match(value) else None


def attendance_self_sign_in(
    *, event: TrainingEvent, staff_no: str, id_last4: str, now: dt.datetime | None = None
) -> SelfSignIn:
    """A staff member signs in on their phone with their 工号 and the last four characters
    of their ID number (compared with the stored masked form; nothing is decrypted).

    Outside the sign-in window: ``closed``. Wrong or unknown details: ``refused``, the same
    for both. Already present or late: ``already``, nothing changes. A person recorded as
    excused or absent who turns up and signs in becomes present."""
    now = now or timezone.now()
    if not event.signin_is_open(now):
        return SelfSignIn(CLOSED)
    last4 = clean_last4(id_last4)
    staff = (
        Staff.objects.filter(staff_no=(staff_no or "").strip(), is_active=True)
        .only("id", "name", "unit_id", "id_number_masked")
        .first()
    )
    expected = staff.id_number_masked[-4:].upper() if staff else "----"
    if not hmac.compare_digest(expected.encode(), (last4 or "").encode()) or staff is None:
        return SelfSignIn(REFUSED)
    with transaction.atomic():
        TrainingEvent.objects.select_for_update().filter(pk=event.pk).first()
        current = Attendance.objects.filter(event=event, staff=staff).first()
        if current is not None and current.status in (AttendanceStatus.PRESENT, AttendanceStatus.LATE):
            return SelfSignIn(ALREADY, current.signed_in_at, mask_name(staff.name))
        if current is None:
            unit_id = staff_units_on(staff=[(staff.pk, staff.unit_id)], day=event.date)[staff.pk]
            Attendance.objects.create(
                event=event, staff=staff, unit_id=unit_id, status=AttendanceStatus.PRESENT, signed_in_at=now,
                source=AttendanceSource.QR, created_at=now,
            )
        else:
            Attendance.objects.filter(pk=current.pk).update(
                status=AttendanceStatus.PRESENT, signed_in_at=now, source=AttendanceSource.QR
            )
        training_event_changed(event=event)
    return SelfSignIn(SIGNED_IN, now, mask_name(staff.name))
