"""Reads for exams. The figures are defined here, once, as SQL aggregates over candidates:
the command line, the API and the annual report all use them.

| figure               | definition                                                          |
| -------------------- | ------------------------------------------------------------------- |
| `candidates`         | every candidate                                                     |
| `exempt`             | candidates marked exempt                                            |
| `expected`           | candidates, less the exempt, less those who left before the window  |
|                      | closed without sitting                                              |
| `sat`                | expected candidates with at least one valid attempt                 |
| `not_sat`            | `expected - sat`                                                    |
| `passed`             | sat candidates whose best score >= the pass mark                    |
| `failed`             | `sat - passed`                                                      |
| `participation_rate` | `sat / expected` (None when nobody is expected)                     |
| `pass_rate`          | `passed / sat` (None when nobody sat)                               |
| `average_score`      | mean best score of those who sat (None when nobody sat)             |

A main exam with a make-up (补考) folds it in: a candidate has sat (or passed) when they sat
(or passed) the main exam or its make-up, whose best score and pass are copied onto the main
exam's candidate (``makeup_score``, ``makeup_passed``; exams/makeup.py); the best score is the
better of the two. ``expected`` stays the main exam's own. Where there is no make-up those
columns are empty and the figures are the exam's own. The make-up's own figures are those of
its own candidates, as for any exam.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import Combinable

from roster.models import Staff, Unit
from roster.ordering import unit_order, unit_sort_key
from sheets.models import ImportRecord

from .models import EXAM_IMPORT_KINDS, Attempt, Candidate, Exam

FIGURES = (
    "expected", "sat", "not_sat", "passed", "failed", "participation_rate", "pass_rate", "average_score",
    "candidates", "exempt",
)
# the aggregates' aliases: prefixed, so that none collides with a field such as ``exempt``
COUNTED = ("n_candidates", "n_exempt", "n_expected", "n_sat", "n_passed", "n_score_sum")


# --- the figures, defined once ----------------------------------------------------------


def expected_q(*, closes_on: dt.date | Combinable | None = None, prefix: str = "") -> Q:
    """Candidates who count as expected. ``closes_on`` defaults to the candidate's own exam's
    closing date (for queries over several exams)."""
    closes_on = closes_on if closes_on is not None else F(f"{prefix}exam__closes_on")
    return Q(**{f"{prefix}exempt": False}) & (
        Q(**{f"{prefix}left_on__isnull": True})
        | Q(**{f"{prefix}left_on__gt": closes_on})
        | Q(**{f"{prefix}best_score__isnull": False})
    )


def sat_either_q(*, prefix: str = "") -> Q:
    """Sat the exam or its make-up."""
    return Q(**{f"{prefix}best_score__isnull": False}) | Q(**{f"{prefix}makeup_score__isnull": False})


def passed_either_q(*, prefix: str = "") -> Q:
    return Q(**{f"{prefix}passed": True}) | Q(**{f"{prefix}makeup_passed": True})


def folded_score(*, prefix: str = "") -> Case:
    """The better of the best scores in the exam and its make-up (NULL when neither was sat)."""
    best, makeup = f"{prefix}best_score", f"{prefix}makeup_score"
    return Case(
        When(Q(**{f"{best}__isnull": True}), then=F(makeup)),
        When(Q(**{f"{makeup}__gt": F(best)}), then=F(makeup)),
        default=F(best),
        output_field=DecimalField(max_digits=6, decimal_places=2),
    )


def sat_q(*, closes_on: dt.date | Combinable | None = None, prefix: str = "") -> Q:
    return expected_q(closes_on=closes_on, prefix=prefix) & sat_either_q(prefix=prefix)


def not_sat_q(*, closes_on: dt.date | Combinable | None = None, prefix: str = "") -> Q:
    return expected_q(closes_on=closes_on, prefix=prefix) & Q(
        **{f"{prefix}best_score__isnull": True, f"{prefix}makeup_score__isnull": True}
    )


def figure_aggregates(*, closes_on: dt.date | Combinable | None = None, prefix: str = "") -> dict[str, Any]:
    """The counted figures as SQL aggregates (aliases in ``COUNTED``); ``figures_from_counts``
    derives every figure from them.
    ``prefix`` lets the aggregates run over a relation (e.g. ``candidates__`` from units)."""
    expected = expected_q(closes_on=closes_on, prefix=prefix)
    sat = sat_q(closes_on=closes_on, prefix=prefix)
    pk = f"{prefix}id"
    return {
        "n_candidates": Count(pk),
        "n_exempt": Count(pk, filter=Q(**{f"{prefix}exempt": True})),
        "n_expected": Count(pk, filter=expected),
        "n_sat": Count(pk, filter=sat),
        "n_passed": Count(pk, filter=sat & passed_either_q(prefix=prefix)),
        # wide enough for the sum of every best score in a large exam
        "n_score_sum": Sum(folded_score(prefix=prefix), filter=sat,
                           output_field=DecimalField(max_digits=20, decimal_places=2)),
    }


def figures_from_counts(counts: dict[str, Any]) -> dict[str, Any]:
    """Every figure from the counted ones. Rates and the average are not rounded."""
    expected = int(counts.get("n_expected") or 0)
    sat = int(counts.get("n_sat") or 0)
    passed = int(counts.get("n_passed") or 0)
    score_sum = counts.get("n_score_sum")
    score_sum = Decimal(str(score_sum)) if score_sum is not None else Decimal(0)
    return {
        "expected": expected,
        "sat": sat,
        "not_sat": expected - sat,
        "passed": passed,
        "failed": sat - passed,
        "participation_rate": sat / expected if expected else None,
        "pass_rate": passed / sat if sat else None,
        "average_score": float(score_sum / sat) if sat else None,
        "candidates": int(counts.get("n_candidates") or 0),
        "exempt": int(counts.get("n_exempt") or 0),
    }


# --- one candidate's state ----------------------------------------------------------------

# a candidate's status, as a person's learning record shows it
PASSED, FAILED, NOT_SAT, EXEMPT = "passed", "failed", "not_sat", "exempt"
STATUSES = (PASSED, FAILED, NOT_SAT, EXEMPT)


def candidate_status(*, prefix: str = "") -> Case:
    """A candidate's status from the same fields the figures count: ``exempt`` for the exempt
    (whether or not they sat), else ``passed`` / ``failed`` for those with a best score (the
    best of their attempts: a retake counts; and of the make-up's), else ``not_sat``. A ``not_sat`` candidate is
    counted in the figures' ``not_sat`` only when also expected (``candidate_expected``)."""
    return Case(
        When(Q(**{f"{prefix}exempt": True}), then=Value(EXEMPT)),
        When(sat_either_q(prefix=prefix) & passed_either_q(prefix=prefix), then=Value(PASSED)),
        When(sat_either_q(prefix=prefix), then=Value(FAILED)),
        default=Value(NOT_SAT),
        output_field=CharField(),
    )


def candidate_expected(*, prefix: str = "") -> ExpressionWrapper:
    """Whether the candidate is expected to sit (``expected_q`` over its own exam)."""
    return ExpressionWrapper(expected_q(prefix=prefix), output_field=BooleanField())


def staff_candidacies(*, staff_ids: Iterable[int], year: int | None = None) -> QuerySet[Candidate]:
    """The candidacies of these people (of exams of the year when given), with the exam joined
    and ``status``, ``is_expected`` and ``score`` (the best score, or the make-up's when
    better, as ``status`` counts it) annotated, in the order the exams opened."""
    qs = Candidate.objects.filter(staff_id__in=list(staff_ids))
    if year is not None:
        qs = qs.filter(exam__year=year)
    return (
        qs.select_related("exam")
        .annotate(status=candidate_status(), is_expected=candidate_expected(), score=folded_score())
        .order_by("staff_id", "exam__opens_on", "exam_id")
    )


# --- exams ------------------------------------------------------------------------------


def exam_list() -> QuerySet[Exam]:
    return Exam.objects.all()


def exam_candidates(*, exam: Exam, unit: Unit | None = None) -> QuerySet[Candidate]:
    qs = Candidate.objects.filter(exam=exam).select_related("staff", "unit")
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs


def exam_stats(*, exam: Exam, unit: Unit | None = None) -> dict[str, Any]:
    """The figures for the whole exam, or for one unit's subtree (by the candidates' units as
    frozen for the exam). One aggregate query."""
    qs = Candidate.objects.filter(exam=exam)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return figures_from_counts(qs.aggregate(**figure_aggregates(closes_on=exam.closes_on)))


def exam_makeup(*, exam: Exam) -> Exam | None:
    """The exam's make-up, if it has one."""
    return Exam.objects.filter(makeup_of_id=exam.pk).first()


def makeup_figures(*, exam: Exam, unit: Unit | None = None) -> dict[str, Any] | None:
    """The exam's make-up's own figures over the same units, with its ``exam_id`` and
    ``name``; None when the exam has no make-up. One query, and one more when it has."""
    makeup = exam_makeup(exam=exam)
    if makeup is None:
        return None
    return {"exam_id": makeup.pk, "name": makeup.name, **exam_stats(exam=makeup, unit=unit)}


def exam_stats_with_makeup(*, exam: Exam, unit: Unit | None = None) -> dict[str, Any]:
    """``exam_stats`` (a make-up folded in), and beside it, only where they apply (an exam of
    neither sort has exactly the figures): ``makeup``, the make-up's own figures
    (``makeup_figures``); ``makeup_of``, the main exam's id when this exam is a make-up."""
    figures = exam_stats(exam=exam, unit=unit)
    if exam.makeup_of_id is not None:
        figures["makeup_of"] = exam.makeup_of_id
    makeup = makeup_figures(exam=exam, unit=unit)
    if makeup is not None:
        figures["makeup"] = makeup
    return figures


def exam_stats_by_unit(*, exam: Exam, root: Unit | None = None, rollup: bool = False) -> list[dict[str, Any]]:
    """One row per unit (under ``root`` when given), in tree order, each with the figures of
    the candidates in that unit, or in its whole subtree when ``rollup``. Units with no
    candidates appear with zeros. Two queries, whatever the number of units."""
    units_qs = Unit.objects.all()
    candidates = Candidate.objects.filter(exam=exam)
    if root is not None:
        units_qs = units_qs.filter(path__startswith=root.path)
        candidates = candidates.filter(unit__path__startswith=root.path)
    per_unit = {
        row.pop("unit_id"): row
        for row in candidates.order_by().values("unit_id").annotate(**figure_aggregates(closes_on=exam.closes_on))
    }
    units = list(units_qs.values("id", "code", "name", "parent_id", "path", "depth", "tree_key", "is_active"))
    by_id = {u["id"]: u for u in units}
    # an inactive unit is shown only when candidates sit in its subtree
    populated: set[int] = set()
    for unit_id in per_unit:
        if unit_id in by_id:
            populated.update(_path_ids(by_id[unit_id]))
    units = [u for u in units if u["is_active"] or u["id"] in populated]
    totals: dict[int, dict[str, Any]] = {u["id"]: dict.fromkeys(COUNTED, 0) for u in units}
    for unit_id, counts in per_unit.items():
        if unit_id not in by_id:
            continue
        for target in (_path_ids(by_id[unit_id]) if rollup else [unit_id]):
            if target in totals:
                for key in COUNTED:
                    totals[target][key] += counts[key] or 0
    return [
        {
            "unit_id": unit["id"],
            "unit_code": unit["code"],
            "unit_name": unit["name"],
            "parent_id": unit["parent_id"],
            "depth": unit["depth"],
            **figures_from_counts(totals[unit["id"]]),
        }
        for unit in _tree_order(units, by_id)
    ]


def _path_ids(unit: dict[str, Any]) -> list[int]:
    """The unit's own id and its ancestors' ids, from its path."""
    return [int(part) for part in unit["path"].strip("/").split("/") if part]


def _tree_order(units: list[dict[str, Any]], by_id: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """The one unit order (roster.ordering): depth first, siblings by sort order then code."""
    return sorted(units, key=unit_sort_key)


def exam_not_sat(*, exam: Exam, unit: Unit | None = None) -> QuerySet[Candidate]:
    """Expected candidates with no attempt, over a unit's subtree, by unit (tree order) then
    staff number. One query with its joins, however many rows."""
    qs = (
        Candidate.objects.filter(exam=exam)
        .filter(not_sat_q(closes_on=exam.closes_on))
        .select_related("staff", "unit")
        .order_by(*unit_order("unit__"), "staff__staff_no")
    )
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs


NOT_SAT_KEYS = ("staff_no", "name", "unit_code", "unit_name", "position", "phone")
NOT_SAT_LABELS = ("工号", "姓名", "单位代码", "单位名称", "职务", "手机号")


def not_sat_entries(candidates: Iterable[Candidate]) -> list[dict[str, str]]:
    return [
        {
            "staff_no": c.staff.staff_no,
            "name": c.staff.name,
            "unit_code": c.unit.code,
            "unit_name": c.unit.name,
            "position": c.staff.position,
            "phone": c.staff.phone,
        }
        for c in candidates
    ]


def exam_attempts(*, exam: Exam) -> QuerySet[Attempt]:
    return Attempt.objects.filter(exam=exam).select_related("candidate__staff", "import_record")


def exam_imports(*, exam: Exam) -> QuerySet[ImportRecord]:
    return ImportRecord.objects.filter(kind__in=EXAM_IMPORT_KINDS, target_id=exam.pk).select_related("started_by")


def exam_exemptions(*, exam: Exam) -> QuerySet[Candidate]:
    """An exam's exempt candidates with their reasons, by unit then 工号 (narrow by ``unit``)."""
    return (
        Candidate.objects.filter(exam=exam, exempt=True)
        .select_related("staff", "unit")
        .order_by(*unit_order("unit__"), "staff__staff_no")
    )


def person_candidacies(*, staff: Staff) -> QuerySet[Candidate]:
    """The exams a person is a candidate of, newest first, the exam joined."""
    return Candidate.objects.filter(staff=staff).select_related("exam").order_by("-exam__year", "-exam__opens_on", "-exam_id")
