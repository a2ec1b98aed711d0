"""Writes for exams: creating an exam and enrolling its audience, keeping candidates current
while the exam has not closed, and importing exemptions and results.

The command line, the Celery task, the admin and (later) the API call these functions. Every
write is set-based: one INSERT .. SELECT enrols an audience, one UPDATE .. FROM keeps candidates
current, results are staged in a temporary table and go in with one INSERT .. SELECT, and one
UPDATE .. FROM refreshes the best scores.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from config.errors import CONFLICT, INVALID, UNMATCHED, DomainError, NotFound, Problem
from config.events import EXAM, figures_changed
from config.jobs import JobStatus, job_claim, job_progress
from roster.matching import ID_NUMBER, STAFF_NO, match_rows
from roster.models import Staff
from sheets.models import ImportKind, ImportRecord
from sheets.reader import Row, SheetError, Table, read_table
from sheets.services import (
    import_record_create,
    import_record_discard_file,
    import_record_finish,
    import_record_read,
    import_record_take_file,
)

from .columns import EXEMPTION_SCHEMA, RESULT_SCHEMA
from .models import DEFAULT_AUDIENCE, EXAM_IMPORT_KINDS, Attempt, Audience, Candidate, EnrolledVia, Exam, ExamKind
from .parsing import CellError, is_absent, parse_score, parse_time

logger = logging.getLogger(__name__)

MATCH_KEYS = (STAFF_NO, ID_NUMBER)
# rows matched per step; progress is reported after each
MATCH_CHUNK = 20_000
IN_CHUNK = 2_000
MAX_REASON = 200

CANDIDATE = Candidate._meta.db_table
EXAM_TABLE = Exam._meta.db_table
STAFF = Staff._meta.db_table


# --- creating an exam -------------------------------------------------------------------


def _decimal(value: Any, label: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise DomainError(f"{label}应为数字，而不是“{value}”。")
    if not number.is_finite():
        raise DomainError(f"{label}应为数字，而不是“{value}”。")
    return number


@dataclass(frozen=True)
class ExamSpec:
    """Checked values for a new or changed exam."""

    name: str
    year: int
    kind: str
    audience: str
    pass_mark: Decimal
    max_score: Decimal
    opens_on: dt.date
    closes_on: dt.date


def exam_validate(
    *,
    name: str,
    year: int,
    kind: str,
    audience: str | None = None,
    pass_mark: Decimal | int | str = Decimal("60"),
    max_score: Decimal | int | str = Decimal("100"),
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
) -> ExamSpec:
    """Check an exam's values; raise DomainError with a Chinese message naming the problem.
    Missing dates default to the whole of ``year``."""
    name = (name or "").strip()
    if not name:
        raise DomainError("考试名称不能为空。")
    if len(name) > 200:
        raise DomainError("考试名称过长（最多 200 字）。")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise DomainError(f"年度应在 2000 到 2100 之间，而不是“{year}”。")
    if kind not in ExamKind.values:
        raise DomainError(f"考试类型应为 {'、'.join(ExamKind.values)} 之一，而不是“{kind}”。")
    audience = audience or DEFAULT_AUDIENCE[ExamKind(kind)]
    if audience not in Audience.values:
        raise DomainError(f"应考范围应为 {'、'.join(Audience.values)} 之一，而不是“{audience}”。")
    max_score = _decimal(max_score, "满分")
    pass_mark = _decimal(pass_mark, "合格分数线")
    if max_score <= 0 or max_score >= Decimal("10000"):
        raise DomainError("满分应大于 0 且小于 10000。")
    if not Decimal(0) <= pass_mark <= max_score:
        raise DomainError(f"合格分数线应在 0 到满分（{max_score.normalize():f}）之间。")
    opens_on = opens_on or dt.date(year, 1, 1)
    closes_on = closes_on or max(dt.date(year, 12, 31), opens_on)
    if opens_on > closes_on:
        raise DomainError(f"开考日期（{opens_on}）不能晚于截止日期（{closes_on}）。")
    return ExamSpec(name, year, kind, audience, pass_mark, max_score, opens_on, closes_on)


def exam_create(
    *,
    name: str,
    year: int,
    kind: str,
    audience: str | None = None,
    pass_mark: Decimal | int | str = Decimal("60"),
    max_score: Decimal | int | str = Decimal("100"),
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
    today: dt.date | None = None,
) -> Exam:
    """Create an exam and enrol its audience in one statement.

    The audience is everybody on the roster when the window closes: every active staff
    member in it, and, for an exam back-filled after its window, those who left after
    ``closes_on``."""
    spec = exam_validate(
        name=name, year=year, kind=kind, audience=audience, pass_mark=pass_mark, max_score=max_score,
        opens_on=opens_on, closes_on=closes_on,
    )
    today = today or timezone.localdate()
    with transaction.atomic():
        existing = Exam.objects.filter(year=spec.year, kind=spec.kind, name=spec.name).values_list("pk", flat=True).first()
        if existing:
            raise DomainError(f"已有同名考试（编号 {existing}），未重复创建。")
        exam = Exam.objects.create(
            name=spec.name, year=spec.year, kind=spec.kind, audience=spec.audience, pass_mark=spec.pass_mark,
            max_score=spec.max_score, opens_on=spec.opens_on, closes_on=spec.closes_on, roster_mark=_roster_mark(),
        )
        _enrol_audience(
            exam_ids=[exam.pk],
            staff_sql="(s.is_active = %s OR s.left_on > e.closes_on)",
            staff_params=[True],
            via=EnrolledVia.AUDIENCE,
            today=today,
            fresh=True,
        )
        figures_changed(kind=EXAM, exam_id=exam.pk, year=exam.year)
    return exam


def exam_update(*, exam: Exam, spec: ExamSpec) -> Exam:
    """Change an exam's name, scoring or window. Its kind, year and audience stay as created.
    A new pass mark re-grades every candidate."""
    if (spec.kind, spec.year, spec.audience) != (exam.kind, exam.year, exam.audience):
        raise DomainError("考试创建后不能修改类型、年度和应考范围；如需变更请新建考试。")
    with transaction.atomic():
        locked = Exam.objects.select_for_update().get(pk=exam.pk)
        top = Attempt.objects.filter(exam=locked).aggregate(m=Max("score"))["m"]
        if top is not None and Decimal(top) > spec.max_score:
            raise DomainError(f"已有成绩（最高 {Decimal(top).normalize():f} 分）超过新的满分，不能这样修改。")
        regrade = locked.pass_mark != spec.pass_mark
        for name in ("name", "pass_mark", "max_score", "opens_on", "closes_on"):
            setattr(locked, name, getattr(spec, name))
        # a moved window may bring the joiner and leaver rules back into force
        locked.roster_mark = None
        locked.save()
        if regrade:
            candidates_refresh_scores(exam=locked)
        figures_changed(kind=EXAM, exam_id=locked.pk, year=locked.year)
    return locked


# --- enrolment and the joiner / leaver / unit rules -------------------------------------


_AUDIENCE_SQL = (
    "(e.audience = 'all'"
    " OR (e.audience = 'enforcement' AND s.enforcement_cert <> '')"
    " OR (e.audience = 'heads' AND s.is_head = %s))"
)
_CANDIDATE_COLUMNS = (
    "exam_id, staff_id, unit_id, exempt, exempt_reason, best_score, attempt_count, passed, left_on, enrolled_via, enrolled_at"
)


def _roster_mark() -> dt.datetime | None:
    """The roster's latest change: moves whenever a staff row is created or changed."""
    return Staff.objects.aggregate(mark=Max("updated_at"))["mark"]


def _in(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _enrol_audience(
    *, exam_ids: Sequence[int], staff_sql: str, staff_params: list[Any], via: str, today: dt.date, fresh: bool = False
) -> int:
    """INSERT .. SELECT the audience's staff who are not candidates yet, for these exams.
    ``fresh``: the exams were created in this transaction and have no candidates, so the
    anti-join and the conflict check are skipped."""
    if not exam_ids:
        return 0
    not_enrolled = "" if fresh else (
        f"AND NOT EXISTS (SELECT 1 FROM {CANDIDATE} c WHERE c.exam_id = e.id AND c.staff_id = s.id)"
    )
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    sql = f"""
        INSERT INTO {CANDIDATE} ({_CANDIDATE_COLUMNS})
        SELECT e.id, s.id, s.unit_id, %s, '', NULL, 0, %s,
               CASE WHEN s.is_active = %s THEN NULL ELSE COALESCE(s.left_on, %s) END, %s, %s
          FROM {EXAM_TABLE} e JOIN {STAFF} s ON {_AUDIENCE_SQL}
         WHERE e.id IN ({_in(exam_ids)}) AND {staff_sql} {not_enrolled}
        {"" if fresh else "ON CONFLICT DO NOTHING"}
    """
    params = [False, False, True, ops.adapt_datefield_value(today), via, now, True, *exam_ids, *staff_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _enrol_staff(*, exam: Exam, staff_sql: str, staff_params: Sequence[Any], via: str, today: dt.date) -> int:
    """Enrol the staff members ``staff_sql`` selects (their ids), whatever the audience says:
    a result or an exemption names them, so the exam concerned them."""
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {CANDIDATE} ({_CANDIDATE_COLUMNS})
            SELECT %s, s.id, s.unit_id, %s, '', NULL, 0, %s,
                   CASE WHEN s.is_active = %s THEN NULL ELSE COALESCE(s.left_on, %s) END, %s, %s
              FROM {STAFF} s
             WHERE s.id IN ({staff_sql})
               AND NOT EXISTS (SELECT 1 FROM {CANDIDATE} c WHERE c.exam_id = %s AND c.staff_id = s.id)
            ON CONFLICT DO NOTHING
            """,
            [
                exam.pk, False, False, True, ops.adapt_datefield_value(today), via,
                ops.adapt_datetimefield_value(timezone.now()), *staff_params, exam.pk,
            ],
        )
        return max(cursor.rowcount, 0)


def exams_refresh_open(
    *, exam_ids: Iterable[int] | None = None, today: dt.date | None = None, force: bool = True
) -> int:
    """Apply the joiner and leaver rules and follow unit moves, for every exam whose window
    has not closed (open now, or not yet open). Closed exams are frozen and left alone.

    One INSERT .. SELECT enrols staff who joined an audience; one UPDATE .. FROM copies units
    and leaving dates onto candidates. Without ``force``, exams already brought up to date
    with the roster as it stands are skipped (one cheap query). Returns the rows changed."""
    today = today or timezone.localdate()
    exams = Exam.objects.filter(closes_on__gte=today)
    if exam_ids is not None:
        exams = exams.filter(pk__in=list(exam_ids))
    targets = list(exams.values_list("pk", "year", "roster_mark"))
    if not targets:
        return 0
    mark = _roster_mark()
    if not force and mark is not None:
        targets = [t for t in targets if t[2] != mark]
        if not targets:
            return 0
    ids = [pk for pk, _, _ in targets]
    with transaction.atomic():
        changed = _enrol_audience(
            exam_ids=ids, staff_sql="s.is_active = %s", staff_params=[True], via=EnrolledVia.JOINER, today=today
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {CANDIDATE}
                   SET unit_id = s.unit_id,
                       left_on = CASE WHEN s.is_active = %s THEN NULL
                                      WHEN {CANDIDATE}.left_on IS NOT NULL THEN {CANDIDATE}.left_on
                                      ELSE COALESCE(s.left_on, %s) END
                  FROM {STAFF} s
                 WHERE s.id = {CANDIDATE}.staff_id AND {CANDIDATE}.exam_id IN ({_in(ids)})
                   AND ({CANDIDATE}.unit_id <> s.unit_id
                        OR ({CANDIDATE}.left_on IS NULL AND s.is_active = %s)
                        OR ({CANDIDATE}.left_on IS NOT NULL AND s.is_active = %s))
                """,
                [True, connection.ops.adapt_datefield_value(today), *ids, False, True],
            )
            changed += max(cursor.rowcount, 0)
        Exam.objects.filter(pk__in=ids).update(roster_mark=mark)
        if changed:
            for pk, year, _ in targets:
                figures_changed(kind=EXAM, exam_id=pk, year=year)
    return changed


def exam_refresh(*, exam: Exam, today: dt.date | None = None) -> int:
    """Bring one exam's candidates up to date before reading its figures: a no-op once the
    exam has closed, or while the roster has not changed since the last refresh."""
    return exams_refresh_open(exam_ids=[exam.pk], today=today, force=False)


# --- scores -----------------------------------------------------------------------------


def candidates_refresh_scores(*, exam: Exam, import_record: ImportRecord | None = None) -> int:
    """Recompute best score, attempt count and pass from the attempts, for the candidates an
    import gave attempts to (all the exam's candidates when ``import_record`` is None): one
    UPDATE .. FROM over a grouped subquery."""
    attempt = Attempt._meta.db_table
    touched = ""
    params: list[Any] = [exam.pass_mark, exam.pk]
    if import_record is not None:
        touched = f"AND a.candidate_id IN (SELECT t.candidate_id FROM {attempt} t WHERE t.import_record_id = %s)"
        params.append(import_record.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {CANDIDATE}
               SET best_score = g.best, attempt_count = g.n, passed = (g.best >= CAST(%s AS NUMERIC))
              FROM (SELECT a.candidate_id, MAX(a.score) AS best, COUNT(*) AS n
                      FROM {attempt} a WHERE a.exam_id = %s {touched}
                     GROUP BY a.candidate_id) g
             WHERE {CANDIDATE}.id = g.candidate_id
            """,
            params,
        )
        return max(cursor.rowcount, 0)


# --- exemptions set by hand (admin) -----------------------------------------------------


def candidates_exempt(*, candidates: QuerySet[Candidate], reason: str) -> int:
    """Mark candidates exempt with a reason. Refused, for all of them, when any has sat."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写免考原因。")
    if len(reason) > MAX_REASON:
        raise DomainError(f"免考原因过长（最多 {MAX_REASON} 字）。")
    with transaction.atomic():
        sat = list(
            candidates.filter(best_score__isnull=False).select_related("staff").order_by("staff__staff_no")[:5]
        )
        if sat:
            names = "、".join(f"{c.staff.name}（{c.staff.staff_no}）" for c in sat)
            raise DomainError(f"已参加考试的人员不能免考：{names}。")
        exams = list(candidates.order_by().values_list("exam_id", "exam__year").distinct())
        changed = candidates.update(exempt=True, exempt_reason=reason)
        for exam_id, year in exams:
            figures_changed(kind=EXAM, exam_id=exam_id, year=year)
    return changed


def candidates_lift_exemption(*, candidates: QuerySet[Candidate]) -> int:
    with transaction.atomic():
        exams = list(candidates.filter(exempt=True).order_by().values_list("exam_id", "exam__year").distinct())
        changed = candidates.filter(exempt=True).update(exempt=False, exempt_reason="")
        for exam_id, year in exams:
            figures_changed(kind=EXAM, exam_id=exam_id, year=year)
    return changed


# --- imports ----------------------------------------------------------------------------


@dataclass
class ExamImportResult:
    import_id: int
    kind: str
    status: str
    rows: int = 0
    applied: int = 0
    unmatched: int = 0
    conflicts: int = 0
    invalid: int = 0
    absent: int = 0
    duplicates: int = 0
    enrolled: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    message: str = ""

    @classmethod
    def of(cls, record: ImportRecord) -> ExamImportResult:
        counts = record.counts or {}
        return cls(
            import_id=record.pk,
            kind=record.kind,
            status=record.status,
            rows=record.rows,
            errors=list(record.problems or []),
            warnings=list(record.warnings or []),
            message=record.message,
            **{key: int(counts.get(key, 0)) for key in COUNT_KEYS},
        )

    @property
    def ran(self) -> bool:
        return self.status == JobStatus.SUCCEEDED

    @property
    def unreadable(self) -> bool:
        """Refused before any row was read: the file itself is the problem."""
        return self.status == JobStatus.REFUSED and self.rows == 0

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
    from .tasks import run_exam_import

    def publish() -> None:
        try:
            run_exam_import.delay(record.pk)
        except Exception:  # the broker being down must not fail the request; the sweeper resends
            logger.warning("could not publish exam import %s; it stays queued", record.pk)

    transaction.on_commit(publish)


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
    if not job_claim(model=ImportRecord, pk=record.pk):
        record.refresh_from_db()
        return ExamImportResult.of(record)
    record.refresh_from_db()
    try:
        if record.kind == ImportKind.EXAM_RESULTS:
            _run_results(record)
        elif record.kind == ImportKind.EXAM_EXEMPTIONS:
            _run_exemptions(record)
        else:
            raise ValueError(f"not an exam import: {record.kind}")
    except Exception:
        logger.exception("exam import %s failed", record.pk)
        ImportRecord.objects.filter(pk=record.pk).update(
            status=JobStatus.FAILED,
            finished_at=timezone.now(),
            applied=False,
            message="导入失败：发生内部错误，未作任何改动。",
        )
        record.refresh_from_db()
    import_record_discard_file(record=record)
    return ExamImportResult.of(record)


# --- the shared steps of both imports ---------------------------------------------------


@dataclass
class _Tally:
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


class _DryRunRollback(Exception):
    """Raised at the end of a dry run's transaction to undo every write it made."""


@contextmanager
def _applying(record: ImportRecord) -> Iterator[None]:
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
            raise _DryRunRollback
    except _DryRunRollback:
        record.applied = False
        if record.message and not record.message.startswith(DRY_RUN_PREFIX):
            record.message = DRY_RUN_PREFIX + record.message
        record.save()


DRY_RUN_PREFIX = "试运行（未作任何改动）："


def _exam_of(record: ImportRecord) -> Exam | None:
    return Exam.objects.filter(pk=record.target_id).first()


def _read(record: ImportRecord, schema: Any) -> Table:
    try:
        data = import_record_read(record=record)
    except (FileNotFoundError, ValueError):
        raise SheetError("导入文件已不存在，请重新上传。")
    table = read_table(data, filename=record.file_name, schema=schema)
    if not table.has("staff_no") and not table.has("id_number"):
        raise SheetError("缺少用于识别人员的列：需要“工号”或“身份证号”之一。", column="工号")
    return table


def _refuse(record: ImportRecord, tally: _Tally, message: str, problems: list[Problem], warnings: list[str]) -> None:
    import_record_finish(
        record=record, status=JobStatus.REFUSED, applied=False, counts=tally.counts(), problems=problems,
        message=message, warnings=warnings,
    )


def _subtable(table: Table, rows: list[Row]) -> Table:
    return Table(fields=table.fields, headers=table.headers, rows=rows, header_row=table.header_row)


def _candidates_of(exam: Exam, staff_ids: set[int]) -> dict[int, tuple[int, bool, str, Decimal | None]]:
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


def _lock_and_refresh(exam: Exam, today: dt.date) -> Exam:
    """Serialise imports into one exam, and bring its candidates up to date first."""
    exam = Exam.objects.select_for_update().get(pk=exam.pk)
    if not exam.is_closed(today):
        exams_refresh_open(exam_ids=[exam.pk], today=today, force=False)
    return exam


def _missing_exam(record: ImportRecord) -> None:
    import_record_finish(
        record=record, status=JobStatus.FAILED, applied=False, counts={}, problems=[],
        message=f"考试不存在：编号 {record.target_id}。",
    )


# --- results ----------------------------------------------------------------------------


STAGE = "exam_result_stage"


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _stage_sittings(sittings: list[tuple[int, int, Decimal, dt.datetime | None]]) -> None:
    """A temporary table of the matched rows (row number, staff id, score, time), alive for
    the import's transaction: COPY on PostgreSQL, executemany on SQLite."""
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        on_commit = " ON COMMIT DROP" if _is_postgres() else ""
        cursor.execute(
            f"""CREATE TEMP TABLE {STAGE} (
                    row_no integer NOT NULL,
                    staff_id bigint NOT NULL,
                    score numeric(6, 2) NOT NULL,
                    taken_at {"timestamp with time zone" if _is_postgres() else "datetime"} NULL
                ){on_commit}"""
        )
        if _is_postgres():
            with cursor.cursor.copy(f"COPY {STAGE} (row_no, staff_id, score, taken_at) FROM STDIN") as copy:
                for row in sittings:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {STAGE} (row_no, staff_id, score, taken_at) VALUES (%s, %s, %s, %s)",
                [(n, staff, score, ops.adapt_datetimefield_value(at)) for n, staff, score, at in sittings],
            )
        cursor.execute(f"CREATE INDEX {STAGE}_staff ON {STAGE} (staff_id)")
        cursor.execute(f"ANALYZE {STAGE}")


def _drop_stage() -> None:
    if not _is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")


def _run_results(record: ImportRecord) -> None:
    exam = _exam_of(record)
    if exam is None:
        _missing_exam(record)
        return
    tally = _Tally()
    try:
        table = _read(record, RESULT_SCHEMA)
    except SheetError as exc:
        _refuse(record, tally, exc.message, exc.problems, [])
        return
    total = len(table.rows)
    tally.rows = record.rows = total
    ImportRecord.objects.filter(pk=record.pk).update(rows=total)
    job_progress(job=record, done=0, total=total)

    sittings: list[tuple[int, int, Decimal, dt.datetime | None]] = []
    i_name, i_score, i_time = table.index("name"), table.index("score"), table.index("taken_at")
    name_label, score_label, time_label = table.label("name"), table.label("score"), table.label("taken_at")
    max_score = exam.max_score
    for start in range(0, total, MATCH_CHUNK):
        keep: list[Row] = []
        parsed: dict[int, tuple[Decimal, dt.datetime | None]] = {}
        for row in table.rows[start : start + MATCH_CHUNK]:
            values = row.values
            score_text = values[i_score]
            if is_absent(score_text):
                tally.absent += 1
                continue
            if not values[i_name]:
                tally.problems.append(Problem(row.number, name_label, "", "姓名为空。", INVALID))
                continue
            try:
                score = parse_score(score_text, max_score=max_score)
            except CellError as exc:
                tally.problems.append(Problem(row.number, score_label, score_text, str(exc), INVALID))
                continue
            taken_at = None
            if i_time is not None:
                try:
                    taken_at = parse_time(values[i_time], numeric=bool(row.numeric >> i_time & 1))
                except CellError as exc:
                    tally.problems.append(Problem(row.number, time_label, values[i_time], str(exc), INVALID))
                    continue
            keep.append(row)
            parsed[row.number] = (score, taken_at)
        if keep:
            matched = match_rows(_subtable(table, keep), keys=MATCH_KEYS)
            tally.problems.extend(matched.problems)
            for m in matched.matched:
                sittings.append((m.row.number, m.staff.id, *parsed[m.row.number]))
        job_progress(job=record, done=min(start + MATCH_CHUNK, total))

    strict = bool(record.options.get("strict"))
    today = timezone.localdate()
    attempt = Attempt._meta.db_table
    with _applying(record):
        exam = _lock_and_refresh(exam, today)
        _stage_sittings(sittings)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT s.row_no, s.score, c.exempt_reason FROM {STAGE} s
                      JOIN {CANDIDATE} c ON c.exam_id = %s AND c.staff_id = s.staff_id
                     WHERE c.exempt = %s ORDER BY s.row_no""",
                [exam.pk, True],
            )
            exempt_rows = cursor.fetchall()
        for row_no, score, reason in exempt_rows:
            tally.problems.append(Problem(
                row_no, score_label, f"{Decimal(str(score)).normalize():f}",
                f"此人已免考（{reason or '未填原因'}），成绩未导入；如需导入，请先取消免考。", CONFLICT,
            ))
        tally.problems.sort(key=lambda p: p.row or 0)
        if strict and tally.problems:
            _drop_stage()
            _refuse(
                record, tally,
                f"导入被拒绝（严格模式）：{len({p.row for p in tally.problems})} 行有问题，未导入任何成绩。",
                tally.problems, table.warnings,
            )
            return

        tally.enrolled = _enrol_staff(
            exam=exam, staff_sql=f"SELECT staff_id FROM {STAGE}", staff_params=[], via=EnrolledVia.RESULT, today=today
        )
        with connection.cursor() as cursor:
            # ON CONFLICT DO NOTHING: a sitting already recorded (same candidate, score and
            # time) is a duplicate, whether from an earlier import or earlier in this file
            cursor.execute(
                f"""INSERT INTO {attempt} (exam_id, candidate_id, score, taken_at, import_record_id, row_number, created_at)
                    SELECT %s, c.id, s.score, s.taken_at, %s, s.row_no, %s
                      FROM {STAGE} s JOIN {CANDIDATE} c ON c.exam_id = %s AND c.staff_id = s.staff_id
                     WHERE c.exempt = %s
                     ORDER BY s.row_no
                    ON CONFLICT DO NOTHING""",
                [exam.pk, record.pk, connection.ops.adapt_datetimefield_value(timezone.now()), exam.pk, False],
            )
            tally.applied = max(cursor.rowcount, 0)
        tally.duplicates = len(sittings) - len(exempt_rows) - tally.applied
        _drop_stage()
        if tally.applied:
            candidates_refresh_scores(exam=exam, import_record=record)
        if tally.applied or tally.enrolled:
            figures_changed(kind=EXAM, exam_id=exam.pk, year=exam.year)
        import_record_finish(
            record=record, status=JobStatus.SUCCEEDED, applied=True, counts=tally.counts(), problems=tally.problems,
            message=_summary("成绩导入完成", tally), warnings=table.warnings,
        )


def _summary(head: str, tally: _Tally) -> str:
    counts = tally.counts()
    return (
        f"{head}：共 {tally.rows} 行，导入 {counts['applied']}，重复 {counts['duplicates']}，缺考 {counts['absent']}，"
        f"名册中无此人 {counts['unmatched']}，冲突 {counts['conflicts']}，无效 {counts['invalid']}。"
    )


# --- exemptions -------------------------------------------------------------------------


def _run_exemptions(record: ImportRecord) -> None:
    exam = _exam_of(record)
    if exam is None:
        _missing_exam(record)
        return
    tally = _Tally()
    try:
        table = _read(record, EXEMPTION_SCHEMA)
    except SheetError as exc:
        _refuse(record, tally, exc.message, exc.problems, [])
        return
    total = len(table.rows)
    tally.rows = record.rows = total
    ImportRecord.objects.filter(pk=record.pk).update(rows=total)
    job_progress(job=record, done=0, total=total)

    reasons: dict[int, str] = {}
    keep: list[Row] = []
    name_label, reason_label = table.label("name"), table.label("reason")
    for row in table.rows:
        reason = table.value(row, "reason")
        if not table.value(row, "name"):
            tally.problems.append(Problem(row.number, name_label, "", "姓名为空。", INVALID))
        elif not reason:
            tally.problems.append(Problem(row.number, reason_label, "", "免考原因为空。", INVALID))
        elif len(reason) > MAX_REASON:
            tally.problems.append(Problem(row.number, reason_label, reason[:20] + "…", f"免考原因过长（最多 {MAX_REASON} 字）。", INVALID))
        else:
            keep.append(row)
            reasons[row.number] = reason
    matched = match_rows(_subtable(table, keep), keys=MATCH_KEYS) if keep else None
    if matched:
        tally.problems.extend(matched.problems)
    job_progress(job=record, done=total)

    strict = bool(record.options.get("strict"))
    today = timezone.localdate()
    with _applying(record):
        exam = _lock_and_refresh(exam, today)
        rows = [(m.row.number, m.staff.id) for m in (matched.matched if matched else [])]
        candidates = _candidates_of(exam, {staff_id for _, staff_id in rows})
        accepted: list[tuple[int, int]] = []
        for number, staff_id in rows:
            known = candidates.get(staff_id)
            if known is not None and known[3] is not None:
                tally.problems.append(Problem(
                    number, reason_label, reasons[number],
                    f"此人已参加考试（最好成绩 {Decimal(known[3]).normalize():f} 分），不能免考。", CONFLICT,
                ))
            else:
                accepted.append((number, staff_id))
        tally.problems.sort(key=lambda p: p.row or 0)
        if strict and tally.problems:
            _refuse(record, tally, "导入被拒绝（严格模式）：有问题行，未作任何改动。", tally.problems, table.warnings)
            return
        newcomers = sorted({staff_id for _, staff_id in accepted} - set(candidates))
        for start in range(0, len(newcomers), IN_CHUNK):
            chunk = newcomers[start : start + IN_CHUNK]
            tally.enrolled += _enrol_staff(
                exam=exam, staff_sql=_in(chunk), staff_params=chunk, via=EnrolledVia.EXEMPTION, today=today
            )
        if newcomers:
            candidates.update(_candidates_of(exam, set(newcomers)))
        wanted: dict[int, str] = {}
        for number, staff_id in accepted:
            if staff_id in wanted:
                tally.duplicates += 1
            wanted[staff_id] = reasons[number]  # the last row for a person wins
        changes = []
        for staff_id, reason in wanted.items():
            candidate_id, exempt, old_reason, _ = candidates[staff_id]
            if exempt and old_reason == reason:
                tally.duplicates += 1
                continue
            changes.append(Candidate(pk=candidate_id, exempt=True, exempt_reason=reason))
        Candidate.objects.bulk_update(changes, ["exempt", "exempt_reason"], batch_size=1000)
        tally.applied = len(changes)
        if tally.applied or tally.enrolled:
            figures_changed(kind=EXAM, exam_id=exam.pk, year=exam.year)
        import_record_finish(
            record=record, status=JobStatus.SUCCEEDED, applied=True, counts=tally.counts(), problems=tally.problems,
            message=(
                f"免考名单导入完成：共 {tally.rows} 行，新设免考 {tally.applied}，原已免考 {tally.duplicates}，"
                f"名册中无此人 {tally.counts()['unmatched']}，冲突 {tally.counts()['conflicts']}，无效 {tally.counts()['invalid']}。"
            ),
            warnings=table.warnings,
        )

