"""The results import: rows matched to candidates, staged in a temporary table and inserted
with one INSERT .. SELECT; retakes keep the best score."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from config.errors import CONFLICT, INVALID, Problem
from config.events import EXAM, figures_changed
from config.jobs import JobStatus, job_progress
from roster.matching import match_rows
from sheets.models import ImportRecord, SupplyKind
from sheets.reader import Row, SheetError
from sheets.services import (
    import_record_finish,
)
from sheets.voiding import supply_record_sql

from .columns import RESULT_SCHEMA
from .enrolment import CANDIDATE, candidates_refresh_scores, enrol_staff
from .import_steps import (
    MATCH_CHUNK,
    MATCH_KEYS,
    ImportTally,
    exam_lock_and_refresh,
    import_applying,
    import_exam,
    import_missing_exam,
    import_read_table,
    import_refuse,
    import_summary,
    late_import_audit,
    late_import_warning,
    subtable,
)
from .models import Attempt, EnrolledVia
from .parsing import CellError, is_absent, parse_score, parse_time
from .voiding import supply_attempts_sql

logger = logging.getLogger(__name__)



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


def results_import_apply(record: ImportRecord) -> None:
    exam = import_exam(record)
    if exam is None:
        import_missing_exam(record)
        return
    tally = ImportTally()
    try:
        table = import_read_table(record, RESULT_SCHEMA)
    except SheetError as exc:
        import_refuse(record, tally, exc.message, exc.problems, [])
        return
    total = len(table.rows)
    tally.rows = record.rows = total
    ImportRecord.objects.filter(pk=record.pk).update(rows=total)
    job_progress(job=record, done=0, total=total)

    sittings: list[tuple[int, int, Decimal, dt.datetime | None]] = []
    i_name, i_score, i_time = table.index("name"), table.index("score"), table.index("taken_at")
    name_label, score_label, time_label = table.label("name"), table.label("score"), table.label("taken_at")
    max_score = exam.max_score
    window = f"{exam.opens_on:%Y-%m-%d} 至 {exam.closes_on:%Y-%m-%d}"
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
                # the window is whole days in Asia/Shanghai (parse_time attaches that zone)
                if taken_at is not None and not exam.opens_on <= taken_at.date() <= exam.closes_on:
                    tally.problems.append(Problem(
                        row.number, time_label, values[i_time],
                        f"交卷时间不在考试时间内（{window}），成绩未导入。", INVALID,
                    ))
                    continue
            keep.append(row)
            parsed[row.number] = (score, taken_at)
        if keep:
            matched = match_rows(subtable(table, keep), keys=MATCH_KEYS, within=exam.owner)
            tally.problems.extend(matched.problems)
            for m in matched.matched:
                sittings.append((m.row.number, m.staff.id, *parsed[m.row.number]))
        job_progress(job=record, done=min(start + MATCH_CHUNK, total))

    strict = bool(record.options.get("strict"))
    today = timezone.localdate()
    late = late_import_warning(exam, today)
    warnings = [*table.warnings, *([late] if late else [])]
    attempt = Attempt._meta.db_table
    with import_applying(record):
        exam = exam_lock_and_refresh(exam, today)
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
            import_refuse(
                record, tally,
                f"导入被拒绝（严格模式）：{len({p.row for p in tally.problems})} 行有问题，未导入任何成绩。",
                tally.problems, warnings,
            )
            return

        tally.enrolled = enrol_staff(
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
        # provenance: every sitting this file supplied, inserted now or already recorded
        sql, params = supply_attempts_sql(stage=STAGE, exam=exam, record=record)
        supply_record_sql(record=record, kind=SupplyKind.ATTEMPT, select_sql=sql, params=params)
        tally.duplicates = len(sittings) - len(exempt_rows) - tally.applied
        _drop_stage()
        if tally.applied:
            candidates_refresh_scores(exam=exam, import_record=record)
        if tally.applied or tally.enrolled:
            figures_changed(kind=EXAM, exam_id=exam.pk, year=exam.year)
        if late and not record.options.get("dry_run"):
            late_import_audit(record, exam, late)
        import_record_finish(
            record=record, status=JobStatus.SUCCEEDED, applied=True, counts=tally.counts(), problems=tally.problems,
            message=import_summary("成绩导入完成", tally), warnings=warnings,
        )
