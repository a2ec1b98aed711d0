"""Enrolling an exam's audience, and keeping its candidates current while it has not closed:
joiners, leavers and unit moves. One INSERT .. SELECT enrols an audience and one UPDATE .. FROM
keeps candidates current."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from config.events import EXAM, figures_changed
from roster.models import Staff
from sheets.models import ImportRecord

from .makeup import makeup_audience_sync, makeup_fold
from .models import Attempt, Candidate, EnrolledVia, Exam
from .owner import owner_sql

logger = logging.getLogger(__name__)

CANDIDATE = Candidate._meta.db_table
EXAM_TABLE = Exam._meta.db_table
STAFF = Staff._meta.db_table
# an exam owned by a unit concerns only that unit's subtree (exams/owner.py)
OWNER_SQL = owner_sql()


_ROSTER_ENFORCEMENT_SQL = "s.enforcement_cert <> ''"
# Who holds an enforcement certificate, by exam kind, when an app knows better than the roster's
# 执法证号 column (certificates: the register, while it is not empty). Each entry is a function
# returning a parameterless SQL condition on ``e`` (the exam) and ``s`` (the staff row); it is
# registered from the app's ``AppConfig.ready``, so exams never imports that app.
ENFORCEMENT_AUDIENCE_RULES: dict[str, Callable[[], str]] = {}


def register_enforcement_audience(*, kind: str, rule: Callable[[], str]) -> None:
    ENFORCEMENT_AUDIENCE_RULES[kind] = rule


def _enforcement_sql() -> str:
    if not ENFORCEMENT_AUDIENCE_RULES:
        return _ROSTER_ENFORCEMENT_SQL
    branches = " ".join(
        f"WHEN e.kind = '{kind}' THEN ({rule()})" for kind, rule in sorted(ENFORCEMENT_AUDIENCE_RULES.items())
    )
    return f"(CASE {branches} ELSE ({_ROSTER_ENFORCEMENT_SQL}) END)"


def audience_sql() -> str:
    return (
        "(e.audience = 'all'"
        f" OR (e.audience = 'enforcement' AND {_enforcement_sql()})"
        " OR (e.audience = 'heads' AND s.is_head = %s))"
        f" AND {OWNER_SQL}"
    )
_CANDIDATE_COLUMNS = (
    "exam_id, staff_id, unit_id, exempt, exempt_reason, best_score, attempt_count, passed, left_on, enrolled_via, enrolled_at"
)


def roster_mark() -> dt.datetime | None:
    """The roster's latest change: moves whenever a staff row is created or changed."""
    return Staff.objects.aggregate(mark=Max("updated_at"))["mark"]


def sql_in(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def enrol_audience(
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
          FROM {EXAM_TABLE} e JOIN {STAFF} s ON {audience_sql()}
         WHERE e.id IN ({sql_in(exam_ids)}) AND {staff_sql} {not_enrolled}
        {"" if fresh else "ON CONFLICT DO NOTHING"}
    """
    params = [False, False, True, ops.adapt_datefield_value(today), via, now, True, *exam_ids, *staff_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def enrol_staff(*, exam: Exam, staff_sql: str, staff_params: Sequence[Any], via: str, today: dt.date) -> int:
    """Enrol the staff members ``staff_sql`` selects (their ids), whatever the audience says:
    a result or an exemption names them, so the exam concerned them (within an owned exam's
    subtree: ``OWNER_SQL``)."""
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {CANDIDATE} ({_CANDIDATE_COLUMNS})
            SELECT %s, s.id, s.unit_id, %s, '', NULL, 0, %s,
                   CASE WHEN s.is_active = %s THEN NULL ELSE COALESCE(s.left_on, %s) END, %s, %s
              FROM {STAFF} s JOIN {EXAM_TABLE} e ON e.id = %s
             WHERE s.id IN ({staff_sql}) AND {OWNER_SQL}
               AND NOT EXISTS (SELECT 1 FROM {CANDIDATE} c WHERE c.exam_id = %s AND c.staff_id = s.id)
            ON CONFLICT DO NOTHING
            """,
            [
                exam.pk, False, False, True, ops.adapt_datefield_value(today), via,
                ops.adapt_datetimefield_value(timezone.now()), exam.pk, *staff_params, exam.pk,
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
    targets = list(exams.values_list("pk", "year", "roster_mark", "makeup_of_id"))
    if not targets:
        return 0
    mark = roster_mark()
    if not force and mark is not None:
        targets = [t for t in targets if t[2] != mark]
        if not targets:
            return 0
    ids = [t[0] for t in targets]
    # a make-up's audience follows its main exam, not the roster's joiners
    makeups = [t[0] for t in targets if t[3] is not None]
    with transaction.atomic():
        changed = enrol_audience(
            exam_ids=[pk for pk in ids if pk not in makeups], staff_sql="s.is_active = %s", staff_params=[True],
            via=EnrolledVia.JOINER, today=today,
        )
        changed += makeup_audience_sync(makeup_ids=makeups, today=today)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {CANDIDATE}
                   SET unit_id = s.unit_id,
                       left_on = CASE WHEN s.is_active = %s THEN NULL
                                      WHEN {CANDIDATE}.left_on IS NOT NULL THEN {CANDIDATE}.left_on
                                      ELSE COALESCE(s.left_on, %s) END
                  FROM {STAFF} s
                 WHERE s.id = {CANDIDATE}.staff_id AND {CANDIDATE}.exam_id IN ({sql_in(ids)})
                   AND ({CANDIDATE}.unit_id <> s.unit_id
                        OR ({CANDIDATE}.left_on IS NULL AND s.is_active = %s)
                        OR ({CANDIDATE}.left_on IS NOT NULL AND s.is_active = %s))
                """,
                [True, connection.ops.adapt_datefield_value(today), *ids, False, True],
            )
            changed += max(cursor.rowcount, 0)
        Exam.objects.filter(pk__in=ids).update(roster_mark=mark)
        if changed:
            for pk, year, *_ in targets:
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
    UPDATE .. FROM over a grouped subquery. A make-up's scores are then copied onto its main
    exam's candidates (exams.makeup.makeup_fold)."""
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
        rows = max(cursor.rowcount, 0)
    if exam.makeup_of_id is not None:
        makeup_fold(makeup=exam)
    return rows
