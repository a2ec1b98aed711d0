"""Voiding a results or exemptions import (``sheets.voiding`` decides which rows go): its
attempts are deleted and the candidates' best scores recomputed, or its exemptions lifted.
A candidate the import itself enrolled (a result or an exemption for someone outside the
audience) goes too once nothing of theirs is left. All set-based."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone

from config.events import EXAM, figures_changed
from sheets.models import ImportKind, ImportRecord, SupplyKind

from .enrolment import CANDIDATE, candidates_refresh_scores, exams_refresh_open
from .models import Attempt, EnrolledVia, Exam

ATTEMPT = Attempt._meta.db_table


def _count(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def _execute(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _drop_empty_candidates(exam: Exam, via: str) -> int:
    """Candidates enrolled by a result or an exemption who, after the void, have neither."""
    return _execute(
        f"""DELETE FROM {CANDIDATE}
             WHERE exam_id = %s AND enrolled_via = %s AND exempt = %s
               AND NOT EXISTS (SELECT 1 FROM {ATTEMPT} a WHERE a.candidate_id = {CANDIDATE}.id)""",
        [exam.pk, via, False],
    )


def exam_import_void(*, record: ImportRecord, removable: dict[str, tuple[str, list[Any]]], dry_run: bool) -> dict[str, int]:
    exam = Exam.objects.select_for_update().filter(pk=record.target_id).first()
    if exam is None:
        return {kind: 0 for kind in removable}
    if record.kind == ImportKind.EXAM_RESULTS:
        ids_sql, params = removable[SupplyKind.ATTEMPT]
        where = f"exam_id = %s AND id IN ({ids_sql})"
        if dry_run:
            return {SupplyKind.ATTEMPT: _count(f"SELECT COUNT(*) FROM {ATTEMPT} WHERE {where}", [exam.pk, *params])}
        removed = _execute(f"DELETE FROM {ATTEMPT} WHERE {where}", [exam.pk, *params])
        if removed:
            # candidates left without any attempt: back to not sat; the others: best of the rest
            _execute(
                f"""UPDATE {CANDIDATE} SET best_score = NULL, attempt_count = 0, passed = %s
                     WHERE exam_id = %s AND attempt_count > 0
                       AND NOT EXISTS (SELECT 1 FROM {ATTEMPT} a WHERE a.candidate_id = {CANDIDATE}.id)""",
                [False, exam.pk],
            )
            candidates_refresh_scores(exam=exam)
            _drop_empty_candidates(exam, EnrolledVia.RESULT)
        result = {SupplyKind.ATTEMPT: removed}
    else:
        ids_sql, params = removable[SupplyKind.EXEMPTION]
        where = f"exam_id = %s AND exempt = %s AND id IN ({ids_sql})"
        if dry_run:
            return {SupplyKind.EXEMPTION: _count(f"SELECT COUNT(*) FROM {CANDIDATE} WHERE {where}", [exam.pk, True, *params])}
        removed = _execute(
            f"UPDATE {CANDIDATE} SET exempt = %s, exempt_reason = '' WHERE {where}", [False, exam.pk, True, *params]
        )
        if removed:
            _drop_empty_candidates(exam, EnrolledVia.EXEMPTION)
        result = {SupplyKind.EXEMPTION: removed}
    if removed:
        if not exam.is_closed():
            # someone dropped above may still belong to the audience: enrolled again as a joiner
            exams_refresh_open(exam_ids=[exam.pk], today=timezone.localdate(), force=True)
        figures_changed(kind=EXAM, exam_id=exam.pk, year=exam.year)
    return result


def supply_attempts_sql(*, stage: str, exam: Exam, record: ImportRecord) -> tuple[str, list[Any]]:
    """(attempt id, applied) for every staged sitting of a results import: the attempt it
    inserted, or the same sitting already recorded (by an earlier import)."""
    return (
        f"""SELECT DISTINCT a.id AS object_id, CASE WHEN a.import_record_id = %s THEN %s ELSE %s END AS applied
              FROM {stage} s JOIN {CANDIDATE} c ON c.exam_id = %s AND c.staff_id = s.staff_id
              JOIN {ATTEMPT} a ON a.candidate_id = c.id AND a.score = s.score
                              AND ((s.taken_at IS NULL AND a.taken_at IS NULL) OR a.taken_at = s.taken_at)
             WHERE c.exempt = %s""",
        [record.pk, True, False, exam.pk, False],
    )
