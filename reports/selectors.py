"""Reads for reports: the per-unit figures computed set-based over the unit tree (alone and
rolled up), and the stored snapshots (the latest, and a trend over time).

The figures are not defined here. Exam figures come from ``exams.selectors``
(``figure_aggregates`` counted per unit, then ``figures_from_counts``); training figures from
``training.selectors`` (``attended_in_year`` for attendances, people and hours, ``hours_below``
for the staff below the requirement). This module only groups them by unit and rolls them up
the tree with one recursive CTE over the units' parent links, which PostgreSQL and SQLite both
run. Nothing loops over units with a query.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractYear
from django.utils import timezone

from config.dbrouter import REPLICA, replica_allowed, replica_read
from exams.models import Candidate, Exam
from exams.selectors import COUNTED, figure_aggregates
from roster.models import Staff, StaffChange, Unit
from roster.ordering import unit_order, unit_sort_key
from training.models import TrainingEvent, TrainingKind
from training.selectors import attended_in_year, events_in_year, hours_sum, required_hours_expression

from .models import AnnualReport, ExamSnapshot, SnapshotRun, TrainingSnapshot

UNIT = Unit._meta.db_table
# the stored training figures, alone or rolled up
TRAINING_FIGURES = ("attendances", "staff_trained", "person_hours", "staff_below_hours")
EXAM_FIGURES = (
    "candidates", "exempt", "expected", "sat", "not_sat", "passed", "failed", "participation_rate", "pass_rate",
    "average_score",
)
# a deeper tree than this is a cycle in the parent links, not a district
MAX_DEPTH = 64

_CENTS = Decimal("0.01")
_FROM_FLOAT = decimal.Context(prec=15).create_decimal_from_float


def unit_closure_cte() -> str:
    """``unit_closure(ancestor_id, unit_id, hops)``: every unit paired with itself and with
    each of its descendants, from the parent links. Goes after ``WITH RECURSIVE``."""
    return f"""unit_closure(ancestor_id, unit_id, hops) AS (
        SELECT id, id, 0 FROM {UNIT}
        UNION ALL
        SELECT c.ancestor_id, u.id, c.hops + 1
          FROM unit_closure c JOIN {UNIT} u ON u.parent_id = c.unit_id
         WHERE c.hops < {MAX_DEPTH})"""


@contextmanager
def reporting_query() -> Iterator[Any]:
    """A cursor for one large read. On PostgreSQL, inside a transaction: no JIT (the
    recursive CTE's row estimate is far too high and JIT compilation alone took 0.3 s) and
    enough ``work_mem`` to group in memory rather than sort on disk. On the read replica when
    the caller reads from it (config/dbrouter.py); the primary otherwise."""
    alias = router.db_for_read(Unit)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        if connections[alias].vendor == "postgresql":
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
        yield cursor


def _as_cte(queryset: QuerySet, name: str) -> tuple[str, list[Any], list[str]]:
    """A values() queryset as ``name(columns) AS (sql)``: its columns are its values fields then
    its annotations, in order."""
    query = queryset.query
    columns = [*query.values_select, *query.annotation_select]
    sql, params = query.sql_with_params()
    return f"{name}({', '.join(columns)}) AS ({sql})", list(params), columns


def _decimal(value: Any) -> Decimal:
    """A summed decimal as the ORM gives it: exact on PostgreSQL; on SQLite the sum comes back
    as a float, read to 15 digits as Django does, then to cents."""
    if value is None:
        return Decimal(0)
    if isinstance(value, float):
        value = _FROM_FLOAT(value)
    return Decimal(value).quantize(_CENTS)


# --- exam figures per unit -------------------------------------------------------------


def exam_unit_counts(*, exam_ids: Sequence[int]) -> dict[tuple[int, int, bool], dict[str, Any]]:
    """The counted exam figures (``exams.selectors.COUNTED``) per (exam, unit, rollup): for the
    candidates whose (frozen) unit is the unit itself, and for those anywhere in its subtree.
    Only units with candidates appear. One query for all the exams."""
    if not exam_ids:
        return {}
    per_unit = (
        Candidate.objects.filter(exam_id__in=list(exam_ids))
        .order_by()
        .values("exam_id", "unit_id")
        .annotate(**figure_aggregates())
    )
    cte, params, columns = _as_cte(per_unit, "per_unit")
    assert columns == ["exam_id", "unit_id", *COUNTED], columns
    sums = ", ".join(f"SUM(p.{c})" for c in COUNTED)
    plain = ", ".join(f"p.{c}" for c in COUNTED)
    sql = f"""
        WITH RECURSIVE {unit_closure_cte()}, {cte}
        SELECT p.exam_id, p.unit_id, 0, {plain} FROM per_unit p
        UNION ALL
        SELECT p.exam_id, c.ancestor_id, 1, {sums}
          FROM per_unit p JOIN unit_closure c ON c.unit_id = p.unit_id
         GROUP BY p.exam_id, c.ancestor_id
    """
    counts: dict[tuple[int, int, bool], dict[str, Any]] = {}
    with reporting_query() as cursor:
        cursor.execute(sql, params)
        for exam_id, unit_id, rollup, *values in cursor.fetchall():
            row = {key: int(value or 0) for key, value in zip(COUNTED[:-1], values[:-1], strict=True)}
            row["n_score_sum"] = _decimal(values[-1])
            counts[(int(exam_id), int(unit_id), bool(rollup))] = row
    return counts


# --- training figures per unit ---------------------------------------------------------


def training_unit_counts(*, year: int) -> dict[tuple[int, bool], dict[str, Any]]:
    """The training figures per (unit, rollup) for a year. Only units with something to count
    appear. One query.

    - ``attendances``, ``staff_trained``, ``person_hours``: over ``attended_in_year`` (the
      records ``training_stats`` counts), by the attendance's frozen unit. A person who
      attended in two units counts once in a subtree holding both.
    - ``staff_below_hours``: active staff, by their current unit, whose hours in the year (the
      same records' event hours, as ``staff_hours`` sums them) are below what the year
      requires of them (``required_hours_expression``: their category's target, else the default):
      the staff ``hours_below`` lists. Summed from the per-person totals of the records above
      rather than by joining every staff row to every attendance ever (a test holds it equal to
      ``hours_below`` for every unit)."""
    pairs = (
        attended_in_year(year=year)
        .order_by()
        .values("unit_id", "staff_id")
        .annotate(n=Count("id"), hours=hours_sum())
    )
    pairs_cte, pairs_params, pair_columns = _as_cte(pairs, "pairs")
    assert pair_columns == ["unit_id", "staff_id", "n", "hours"], pair_columns
    # each active person with what the year requires of them (their category's target, else
    # the default): the same expression ``hours_below`` filters on
    active = (
        Staff.objects.filter(is_active=True).order_by()
        .annotate(required=required_hours_expression(year=year)).values("id", "unit_id", "required")
    )
    assert list(active.query.values_select) == ["id", "unit_id"], active.query.values_select
    active_sql, active_params = active.query.sql_with_params()
    # People are counted once per subtree: a unit's subtree adds up its units' own counts,
    # less the repeats of people with records in more than one of its units (few: those who
    # moved during the year), so that only those people are joined to the tree one by one.
    sql = f"""
        WITH RECURSIVE {unit_closure_cte()}, {pairs_cte},
        unit_alone(unit_id, n, people, hours) AS (
            SELECT unit_id, SUM(n), COUNT(*), SUM(hours) FROM pairs GROUP BY unit_id),
        person(staff_id, hours, units) AS (SELECT staff_id, SUM(hours), COUNT(*) FROM pairs GROUP BY staff_id),
        repeats(ancestor_id, extra) AS (
            SELECT g.ancestor_id, SUM(g.m - 1) FROM (
                SELECT c.ancestor_id, p.staff_id, COUNT(*) AS m
                  FROM pairs p JOIN person x ON x.staff_id = p.staff_id AND x.units > 1
                  JOIN unit_closure c ON c.unit_id = p.unit_id
                 GROUP BY c.ancestor_id, p.staff_id) g
             WHERE g.m > 1 GROUP BY g.ancestor_id),
        below(unit_id, n) AS (
            SELECT s.unit_id, COUNT(*) FROM ({active_sql}) s LEFT JOIN person p ON p.staff_id = s.id
             WHERE COALESCE(ROUND(p.hours, 2), 0) < s.required
             GROUP BY s.unit_id)
        SELECT 'a', a.unit_id, 0, a.n, a.people, a.hours FROM unit_alone a
        UNION ALL
        SELECT 'a', r.ancestor_id, 1, r.n, r.people - COALESCE(x.extra, 0), r.hours
          FROM (SELECT c.ancestor_id, SUM(a.n) AS n, SUM(a.people) AS people, SUM(a.hours) AS hours
                  FROM unit_alone a JOIN unit_closure c ON c.unit_id = a.unit_id
                 GROUP BY c.ancestor_id) r
          LEFT JOIN repeats x ON x.ancestor_id = r.ancestor_id
        UNION ALL
        SELECT 'b', b.unit_id, 0, b.n, 0, 0 FROM below b WHERE b.n > 0
        UNION ALL
        SELECT 'b', c.ancestor_id, 1, SUM(b.n), 0, 0
          FROM below b JOIN unit_closure c ON c.unit_id = b.unit_id
         GROUP BY c.ancestor_id
    """
    params = [*pairs_params, *active_params]
    out: dict[tuple[int, bool], dict[str, Any]] = {}
    with reporting_query() as cursor:
        cursor.execute(sql, params)
        for part, unit_id, rollup, first, second, hours in cursor.fetchall():
            row = out.setdefault((int(unit_id), bool(rollup)), _zero_training())
            if part == "a":
                row["attendances"] = int(first or 0)
                row["staff_trained"] = int(second or 0)
                row["person_hours"] = _decimal(hours)
            else:
                row["staff_below_hours"] = int(first or 0)
    return out


def _zero_training() -> dict[str, Any]:
    return {"attendances": 0, "staff_trained": 0, "person_hours": Decimal("0.00"), "staff_below_hours": 0}


@replica_read
def court_observation_figures(*, year: int, unit: Unit | None = None) -> dict[str, int]:
    """Court-hearing observations in the year: ``events``, and ``head_attendances``, the
    attendances (present or late) by people who were unit heads on the day. Whether someone
    was a head then comes from the roster history: the old value of their first change of
    正职 after that day, else their current flag. So a past year's figure does not move when
    heads change later. Two queries.

    With ``unit``, as ``training_stats`` counts a subtree: the attendances whose (frozen) unit
    lies in its subtree, and the events attended from it."""
    first_change_after = (
        StaffChange.objects.filter(
            staff_id=OuterRef("staff_id"), field="is_head", changed_at__date__gt=OuterRef("event__date")
        )
        .order_by("changed_at", "id")
        .values("old_value")[:1]
    )
    attended = attended_in_year(year=year, unit=unit).filter(event__kind=TrainingKind.COURT_OBSERVATION)
    heads = attended.annotate(head_then=Subquery(first_change_after)).filter(
        Q(head_then="是") | Q(head_then__isnull=True, staff__is_head=True)
    )
    events = events_in_year(year=year).filter(kind=TrainingKind.COURT_OBSERVATION)
    if unit is not None:
        events = events.filter(Exists(attended.filter(event=OuterRef("pk")).order_by()))
    return {"events": events.count(), "head_attendances": heads.count()}


# --- units ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str
    depth: int
    sort_order: int
    is_active: bool
    created_at: dt.datetime | None = None
    tree_key: int = 0


def units_all() -> dict[int, UnitRow]:
    return {
        row[0]: UnitRow(*row)
        for row in Unit.objects.order_by().values_list(
            "id", "code", "name", "kind", "parent_id", "path", "depth", "sort_order", "is_active", "created_at", "tree_key"
        )
    }


def snapshot_units(units: dict[int, UnitRow], populated: Iterable[int]) -> list[UnitRow]:
    """The units a snapshot holds: the active ones, and an inactive one only where something
    was counted in its subtree (as ``exam_stats_by_unit`` shows them)."""
    populated = set(populated)
    return [u for u in units.values() if u.is_active or u.id in populated]


def top_level_units(units: dict[int, UnitRow]) -> list[UnitRow]:
    """The children of the root(s), in the district's order."""
    return sorted((u for u in units.values() if u.depth == 1), key=unit_sort_key)


def top_level_of(unit: UnitRow, units: dict[int, UnitRow], *, root: UnitRow | None = None) -> UnitRow:
    """A unit's top-level unit (the child of the root above it); the root for the root.
    With ``root`` (a subtree's report), the child of ``root`` above the unit."""
    level = root.depth + 1 if root is not None else 1
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    if len(ids) > level and ids[level] in units:
        return units[ids[level]]
    return unit


def children_of(root: UnitRow, units: dict[int, UnitRow]) -> list[UnitRow]:
    """A unit's direct sub-units, in the district's order."""
    return sorted((u for u in units.values() if u.parent_id == root.id), key=unit_sort_key)


# --- the stored snapshots ---------------------------------------------------------------


def _latest(model: type, key: str) -> Subquery:
    return Subquery(
        model.objects.filter(**{key: OuterRef(key)}).order_by("-computed_at").values("computed_at")[:1]
    )


def _latest_of(owners: QuerySet[Exam]) -> Q:
    """A condition keeping the latest snapshot run of each of ``owners`` (exams): one query,
    with one backward probe of the (exam, computed_at) index per exam (a year holds a handful),
    so that a page's COUNT and OFFSET do not evaluate ``_latest`` for every snapshot row."""
    latest = Subquery(
        ExamSnapshot.objects.filter(exam_id=OuterRef("pk")).order_by("-computed_at").values("computed_at")[:1]
    )
    condition = Q(pk__in=[])
    for pk, at in owners.annotate(latest=latest).order_by("pk").values_list("pk", "latest"):
        if at is not None:
            condition |= Q(exam_id=pk, computed_at=at)
    return condition


class ParticipationRows(Sequence):
    """The rows of ``participation_latest``, read a slice at a time: ``count()`` and slicing
    run in SQL (COUNT, then OFFSET/LIMIT over the exams' rows, then the training rows), so a
    page of 50 reads 50 snapshot rows whatever the number of units. Iterating reads them all."""

    def __init__(self, exams: QuerySet[ExamSnapshot], training: QuerySet[TrainingSnapshot] | None) -> None:
        self.exams = exams
        self.training = training
        self._counts: tuple[int, int] | None = None

    def _sizes(self) -> tuple[int, int]:
        if self._counts is None:
            self._counts = (self.exams.count(), self.training.count() if self.training is not None else 0)
        return self._counts

    def count(self) -> int:  # type: ignore[override]  # Django's Paginator asks for count()
        return sum(self._sizes())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, int):
            rows = self[key : key + 1] if key >= 0 else list(self)[key : key + 1 or None]
            if not rows:
                raise IndexError(key)
            return rows[0]
        start, stop, step = key.indices(self.count())
        if step != 1:
            return list(self)[key]
        n_exams, _ = self._sizes()
        rows = [_exam_row(s) for s in self.exams[start:min(stop, n_exams)]] if start < n_exams else []
        if self.training is not None and stop > n_exams:
            rows += [_training_row(s) for s in self.training[max(start - n_exams, 0):stop - n_exams]]
        return rows

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield from (_exam_row(s) for s in self.exams)
        if self.training is not None:
            yield from (_training_row(s) for s in self.training)


def _participation(
    *, exam: Exam | int | None, year: int | None, unit: Unit | None, rollup: bool, paged: bool
) -> ParticipationRows:
    exam_id = exam.pk if isinstance(exam, Exam) else exam
    if exam_id is None and year is None:
        year = timezone.localdate().year
    exams = ExamSnapshot.objects.filter(rollup=rollup)
    exams = exams.filter(exam_id=exam_id) if exam_id is not None else exams.filter(exam__year=year)
    if paged:
        owners = Exam.objects.filter(pk=exam_id) if exam_id is not None else Exam.objects.filter(year=year)
        exams = exams.filter(_latest_of(owners))
    else:
        exams = exams.filter(computed_at=_latest(ExamSnapshot, "exam_id"))
    if unit is not None:
        exams = exams.filter(unit__path__startswith=unit.path)
    if exam_id is not None:
        # one exam, one row per unit: the units' (tree_key, code) index walks them in order, a
        # page at a time, instead of a sort of every unit's row for each page
        exams = exams.order_by(*unit_order("unit__"))
    else:
        exams = exams.order_by("exam__opens_on", "exam_id", *unit_order("unit__"))
    exams = exams.select_related("unit", "exam")
    training = None
    if exam_id is None:
        training = TrainingSnapshot.objects.filter(rollup=rollup, year=year)
        if paged:
            latest = (TrainingSnapshot.objects.filter(year=year).order_by("-computed_at")
                      .values_list("computed_at", flat=True).first())
            training = training.filter(computed_at=latest)
        else:
            training = training.filter(computed_at=_latest(TrainingSnapshot, "year"))
        if unit is not None:
            training = training.filter(unit__path__startswith=unit.path)
        training = training.select_related("unit").order_by(*unit_order("unit__"))
    if replica_allowed():
        # read later, outside the call: pinned here, as replica_read pins a QuerySet
        exams = exams.using(REPLICA)
        training = training.using(REPLICA) if training is not None else None
    return ParticipationRows(exams, training)


@replica_read
def participation_latest(
    *, exam: Exam | int | None = None, year: int | None = None, unit: Unit | None = None, rollup: bool = True
) -> list[dict[str, Any]]:
    """The latest stored snapshot rows, read at once (no figure is computed here).

    - ``exam``: that exam's rows;
    - ``year`` (no exam): the rows of every exam of that year, then the year's training rows;
    - neither: as ``year`` for the current year.

    ``unit`` keeps the rows of that unit and its subtree; ``rollup`` picks the rolled-up
    figures (True) or the unit's own (False). Each row has ``scope`` ("exam" or "training"),
    ``exam_id``, ``exam_name``, ``makeup_of`` (a make-up's main exam, else None; the main
    exam's rows fold its make-up in, the make-up's rows are its own), ``year``, ``unit_id``, ``unit_code``, ``unit_name``,
    ``unit_kind``, ``parent_id``, ``depth``, ``rollup``, ``computed_at`` and the figures. Rows come
    in tree order (roster.ordering). Two queries."""
    # iter(): list() of the Sequence itself would ask its len() first, a COUNT for nothing
    return list(iter(_participation(exam=exam, year=year, unit=unit, rollup=rollup, paged=False)))


@replica_read
def participation_rows(
    *, exam: Exam | int | None = None, year: int | None = None, unit: Unit | None = None, rollup: bool = True
) -> ParticipationRows:
    """The rows of ``participation_latest`` (same arguments, same rows, same order), unread, for a
    caller that pages them: ``count()`` and each slice are SQL (two probes for the latest runs,
    two COUNTs, one or two OFFSET/LIMIT reads), so a page costs the same whatever the units."""
    return _participation(exam=exam, year=year, unit=unit, rollup=rollup, paged=True)


@replica_read
def participation_trend(
    *,
    unit: Unit,
    exam: Exam | int | None = None,
    year: int | None = None,
    rollup: bool = True,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """One unit's snapshots over time, oldest first: for ``exam`` (its window's trend), or for
    the training ``year``. One query."""
    if exam is not None:
        qs = ExamSnapshot.objects.filter(exam_id=exam.pk if isinstance(exam, Exam) else exam)
        make = _exam_row
    elif year is not None:
        qs = TrainingSnapshot.objects.filter(year=year)
        make = _training_row
    else:
        raise ValueError("participation_trend needs an exam or a year")
    qs = qs.filter(unit=unit, rollup=rollup)
    if since is not None:
        qs = qs.filter(computed_at__gte=since)
    if until is not None:
        qs = qs.filter(computed_at__lte=until)
    related = ("unit", "exam") if exam is not None else ("unit",)
    return [make(snap) for snap in qs.select_related(*related).order_by("computed_at")]


def _unit_part(snap: Any) -> dict[str, Any]:
    unit = snap.unit
    return {
        "unit_id": unit.pk,
        "unit_code": unit.code,
        "unit_name": unit.name,
        "unit_kind": unit.kind,
        "parent_id": unit.parent_id,
        "depth": unit.depth,
        "rollup": snap.rollup,
        "computed_at": snap.computed_at,
    }


def _exam_row(snap: ExamSnapshot) -> dict[str, Any]:
    return {
        "scope": "exam",
        "exam_id": snap.exam_id,
        "exam_name": snap.exam.name,
        "makeup_of": snap.exam.makeup_of_id,
        "year": snap.exam.year,
        **_unit_part(snap),
        **{name: getattr(snap, name) for name in EXAM_FIGURES},
    }


def _training_row(snap: TrainingSnapshot) -> dict[str, Any]:
    return {
        "scope": "training",
        "exam_id": None,
        "exam_name": None,
        "makeup_of": None,
        "year": snap.year,
        **_unit_part(snap),
        **{name: getattr(snap, name) for name in TRAINING_FIGURES},
    }


def snapshot_runs() -> QuerySet[SnapshotRun]:
    return SnapshotRun.objects.all()


def snapshot_last_computed(*, exam: Exam | None = None, year: int | None = None) -> dt.datetime | None:
    if exam is not None:
        return ExamSnapshot.objects.filter(exam=exam).aggregate(at=Max("computed_at"))["at"]
    return TrainingSnapshot.objects.filter(year=year).aggregate(at=Max("computed_at"))["at"]


def annual_reports() -> QuerySet[AnnualReport]:
    return AnnualReport.objects.select_related("started_by")


def report_years(*, today: dt.date | None = None) -> list[int]:
    """The years a report can be asked for, newest first: those with an exam or a training
    event, and the current year (whose report is being written)."""
    years = set(Exam.objects.values_list("year", flat=True).distinct())
    years |= set(TrainingEvent.objects.annotate(y=ExtractYear("date")).values_list("y", flat=True).distinct())
    years.add((today or timezone.localdate()).year)
    return sorted(years, reverse=True)
