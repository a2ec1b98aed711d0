"""Make-up exams (补考).

A make-up is an exam linked to its main exam (``Exam.makeup_of``) of the same kind and year;
a main exam has at most one, and a make-up has none of its own.

- **Audience.** The main exam's expected candidates who have not passed it, among the staff
  still on the roster when the make-up closes (as any exam's audience). Enrolled when the
  make-up is created, and recomputed whenever the main exam's figures change (its results or
  exemptions, on commit) and while the make-up is open (with the open exams' refresh): people
  who have since passed the main exam, or are no longer expected in it, leave the make-up's
  audience unless they already have a result or an exemption in it; newly failed or newly
  expected people join it. The roster's joiners do not join a make-up by its audience rule.
- **Folding.** The main exam's candidates carry the same person's make-up best score and pass
  (``makeup_score``, ``makeup_passed``), copied set-based whenever the make-up's scores change;
  ``exams.selectors`` counts a sitting or a pass of either. The main exam's ``expected`` is
  its own.

Everything here is one statement per step, whatever the number of candidates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.utils import timezone

from config.errors import DomainError
from config.events import EXAM, figures_changed
from roster.models import Staff

from .models import Candidate, EnrolledVia, Exam
from .owner import owner_sql

CANDIDATE = Candidate._meta.db_table
EXAM_TABLE = Exam._meta.db_table
STAFF = Staff._meta.db_table


def _in(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def makeup_main_check(*, makeup_of: Any, kind: str, year: int) -> Exam | None:
    """The main exam a new make-up belongs to, checked: it exists, is not itself a make-up,
    has no make-up yet, and is of the same kind and year. None when ``makeup_of`` is empty."""
    if makeup_of is None or makeup_of == "":
        return None
    if isinstance(makeup_of, Exam):
        main = makeup_of
    else:
        try:
            main_id = int(str(makeup_of).strip())
        except ValueError:
            raise DomainError(f"补考所属考试的编号应为数字，而不是“{makeup_of}”。")
        main = Exam.objects.filter(pk=main_id).first()
        if main is None:
            raise DomainError(f"补考所属的考试（编号 {main_id}）不存在。")
    if main.makeup_of_id is not None:
        raise DomainError(f"考试（编号 {main.pk}）本身是补考，不能再为它设补考。")
    if main.kind != kind:
        raise DomainError(
            f"补考的考试类型（{kind}）应与所属考试“{main.name}”的类型（{main.kind}）相同。"
        )
    if main.year != year:
        raise DomainError(f"补考的年度（{year}）应与所属考试“{main.name}”的年度（{main.year}）相同。")
    existing = Exam.objects.filter(makeup_of=main).values_list("pk", flat=True).first()
    if existing:
        raise DomainError(f"考试“{main.name}”（编号 {main.pk}）已有补考（编号 {existing}）。", code="conflict")
    return main


def _main_owes(alias: str = "c", main: str = "m") -> str:
    """SQL: the main exam's candidate ``alias`` is expected (exams.selectors.expected_q) and has
    not passed it."""
    return (
        f"{alias}.exempt = %s AND {alias}.passed = %s AND ({alias}.left_on IS NULL OR {alias}.left_on > {main}.closes_on"
        f" OR {alias}.best_score IS NOT NULL)"
    )


def makeup_audience_sync(*, makeup_ids: Sequence[int], today: dt.date | None = None, fresh: bool = False) -> int:
    """Bring these make-ups' audiences in line with their main exams (see the module's text):
    one DELETE of those who no longer owe the main exam and have nothing recorded in the
    make-up, one INSERT .. SELECT of those who owe it and are not enrolled. Returns the rows
    changed; announces the make-ups' figures changed when any did."""
    ids = list(makeup_ids)
    if not ids:
        return 0
    today = today or timezone.localdate()
    ops = connection.ops
    changed = 0
    with connection.cursor() as cursor:
        if not fresh:
            cursor.execute(
                f"""
                DELETE FROM {CANDIDATE}
                 WHERE exam_id IN ({_in(ids)}) AND enrolled_via = %s AND exempt = %s AND attempt_count = 0
                   AND best_score IS NULL
                   AND NOT EXISTS (
                       SELECT 1 FROM {EXAM_TABLE} mk JOIN {EXAM_TABLE} m ON m.id = mk.makeup_of_id
                         JOIN {CANDIDATE} c ON c.exam_id = m.id
                        WHERE mk.id = {CANDIDATE}.exam_id AND c.staff_id = {CANDIDATE}.staff_id AND {_main_owes()})
                """,
                [*ids, EnrolledVia.AUDIENCE, False, False, False],
            )
            changed += max(cursor.rowcount, 0)
        cursor.execute(
            f"""
            INSERT INTO {CANDIDATE} (exam_id, staff_id, unit_id, exempt, exempt_reason, best_score, attempt_count,
                                     passed, left_on, enrolled_via, enrolled_at)
            SELECT mk.id, s.id, s.unit_id, %s, '', NULL, 0, %s,
                   CASE WHEN s.is_active = %s THEN NULL ELSE COALESCE(s.left_on, %s) END, %s, %s
              FROM {EXAM_TABLE} mk JOIN {EXAM_TABLE} m ON m.id = mk.makeup_of_id
              JOIN {CANDIDATE} c ON c.exam_id = m.id
              JOIN {STAFF} s ON s.id = c.staff_id
             WHERE mk.id IN ({_in(ids)}) AND {_main_owes()} AND {owner_sql("mk", "s")}
               AND (s.is_active = %s OR s.left_on > mk.closes_on)
               AND NOT EXISTS (SELECT 1 FROM {CANDIDATE} x WHERE x.exam_id = mk.id AND x.staff_id = c.staff_id)
            ON CONFLICT DO NOTHING
            """,
            [
                False, False, True, ops.adapt_datefield_value(today), EnrolledVia.AUDIENCE,
                ops.adapt_datetimefield_value(timezone.now()), *ids, False, False, True,
            ],
        )
        changed += max(cursor.rowcount, 0)
    if changed and not fresh:
        for pk, year in Exam.objects.filter(pk__in=ids).values_list("pk", "year"):
            figures_changed(kind=EXAM, exam_id=pk, year=year)
    return changed


def makeup_fold(*, makeup: Exam) -> int:
    """Copy the make-up's best scores and passes onto its main exam's candidates (every one of
    them: a person no longer in the make-up gets empty values), in one UPDATE. Announces the
    main exam's figures changed."""
    if makeup.makeup_of_id is None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {CANDIDATE}
               SET makeup_score = (SELECT x.best_score FROM {CANDIDATE} x
                                    WHERE x.exam_id = %s AND x.staff_id = {CANDIDATE}.staff_id),
                   makeup_passed = COALESCE((SELECT x.passed FROM {CANDIDATE} x
                                              WHERE x.exam_id = %s AND x.staff_id = {CANDIDATE}.staff_id), %s)
             WHERE exam_id = %s
               AND (makeup_score IS NOT NULL OR makeup_passed = %s
                    OR EXISTS (SELECT 1 FROM {CANDIDATE} x WHERE x.exam_id = %s AND x.staff_id = {CANDIDATE}.staff_id
                                  AND x.best_score IS NOT NULL))
            """,
            [makeup.pk, makeup.pk, False, makeup.makeup_of_id, True, makeup.pk],
        )
        rows = max(cursor.rowcount, 0)
    figures_changed(kind=EXAM, exam_id=makeup.makeup_of_id, year=makeup.year)
    return rows


def makeups_of(*, exam_ids: Sequence[int]) -> list[int]:
    """The make-ups of these main exams."""
    return list(Exam.objects.filter(makeup_of_id__in=list(exam_ids)).values_list("pk", flat=True))


def makeup_unfold(*, makeup_ids: Sequence[int]) -> int:
    """Before these make-ups are deleted: empty the copies of their scores on their main exams'
    candidates (one UPDATE), so that the main exams' figures are their own again."""
    mains = list(Exam.objects.filter(pk__in=list(makeup_ids), makeup_of__isnull=False).values_list("makeup_of_id", "year"))
    if not mains:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CANDIDATE} SET makeup_score = NULL, makeup_passed = %s"
            f" WHERE exam_id IN ({_in(mains)}) AND (makeup_score IS NOT NULL OR makeup_passed = %s)",
            [False, *[pk for pk, _ in mains], True],
        )
        rows = max(cursor.rowcount, 0)
    for pk, year in mains:
        figures_changed(kind=EXAM, exam_id=pk, year=year)
    return rows
