"""The roster as it stood on a past day, read from its history: who had joined (``joined_on``,
the day a sync or a hand entry first created them), who was on the roster (the ``is_active``
changes), and in which unit (the unit moves).

The people the first sync of an empty roster created have an unknown joining date (the day
of that sync is only the day the system started): they count as there before any exam and
any year."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.utils import timezone

from .models import ChangeKind, Staff, StaffChange, Unit

_CHUNK = 2000


def initial_sync_id() -> int | None:
    """The roster sync that filled the empty roster: the one that created the first staff row
    (None when the first staff row was added by hand). Its people were there before any year."""
    return Staff.objects.order_by("created_at", "id").values_list("created_by_sync_id", flat=True).first()


def day_end(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` (local time)."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def joined_by_q(day: dt.date) -> Q:
    """Staff who had joined by the end of ``day``: by their joining date, by their creation
    time when they have none, and everybody the first sync of an empty roster created."""
    joined = Q(joined_on__lte=day) | Q(joined_on__isnull=True, created_at__lt=day_end(day))
    first_sync = initial_sync_id()
    if first_sync is not None:
        joined |= Q(created_by_sync_id=first_sync)
    return joined


def joined_by_sql(*, day_sql: str, alias: str = "s") -> tuple[str, list[Any]]:
    """``joined_by_q`` as an SQL condition on the staff row ``alias``, for a day given as an SQL
    expression (an exam's ``e.closes_on``). A missing joining date counts as joined before."""
    first_sync = initial_sync_id()
    sql = f"({alias}.joined_on IS NULL OR {alias}.joined_on <= {day_sql}"
    params: list[Any] = []
    if first_sync is not None:
        sql += f" OR {alias}.created_by_sync_id = %s"
        params.append(first_sync)
    return sql + ")", params


def staff_active_on(*, staff: Iterable[tuple[int, bool]], cutoff: dt.datetime) -> dict[int, bool]:
    """Whether each person (staff id, on the roster now) was on the roster at ``cutoff``: the
    first change of ``is_active`` after it says what it was before (the history keeps 是/否);
    without one, it is as now. One query per 2,000 people."""
    current = dict(staff)
    ids = sorted(current)
    first_change: dict[int, str] = {}
    for start in range(0, len(ids), _CHUNK):
        changes = (
            StaffChange.objects.filter(
                staff_id__in=ids[start : start + _CHUNK], field="is_active",
                kind__in=[ChangeKind.DEACTIVATED, ChangeKind.REACTIVATED], changed_at__gte=cutoff,
            )
            .order_by("staff_id", "changed_at", "id")
            .values_list("staff_id", "old_value")
        )
        for staff_id, old_value in changes:
            first_change.setdefault(staff_id, old_value)
    return {pk: (first_change[pk] == "是") if pk in first_change else active for pk, active in current.items()}


def staff_units_on(*, staff: Iterable[tuple[int, int]], day: dt.date) -> dict[int, int]:
    """The unit each person belonged to on ``day``, from (staff id, current unit id) pairs.

    A person who moved after that day is placed in the unit the first later move took them
    from (the roster history keeps "CODE name" as the old value). One query per 2,000 people,
    plus one for the unit codes when anybody moved."""
    current = dict(staff)
    cutoff = day_end(day)
    earliest_move: dict[int, str] = {}
    ids = sorted(current)
    for start in range(0, len(ids), _CHUNK):
        moves = (
            StaffChange.objects.filter(
                staff_id__in=ids[start : start + _CHUNK], kind=ChangeKind.MOVED, field="unit", changed_at__gte=cutoff
            )
            .order_by("staff_id", "changed_at", "id")
            .values_list("staff_id", "old_value")
        )
        for staff_id, old_value in moves:
            earliest_move.setdefault(staff_id, old_value.split(" ", 1)[0])
    if earliest_move:
        by_code = dict(Unit.objects.filter(code__in=set(earliest_move.values())).values_list("code", "id"))
        for staff_id, code in earliest_move.items():
            if code in by_code:
                current[staff_id] = by_code[code]
    return current


def staff_on_roster_on(*, day: dt.date, within: str | None = None) -> dict[int, int]:
    """Who was on the roster at the end of ``day``, each with the unit they were in then:
    staff id -> unit id. ``within``: only those in the subtree of that unit path then. A few
    queries, plus one per 2,000 people who could have been there."""
    cutoff = day_end(day)
    rows = Staff.objects.filter(joined_by_q(day))
    if within is not None:
        # anyone in the subtree now, or moved since (they may have been in it then)
        moved_since = StaffChange.objects.filter(kind=ChangeKind.MOVED, field="unit", changed_at__gte=cutoff)
        rows = rows.filter(Q(unit__path__startswith=within) | Q(pk__in=moved_since.values("staff_id")))
    people = list(rows.order_by().values_list("id", "unit_id", "is_active"))
    active = staff_active_on(staff=[(pk, is_active) for pk, _, is_active in people], cutoff=cutoff)
    units = staff_units_on(staff=[(pk, unit_id) for pk, unit_id, _ in people if active[pk]], day=day)
    if within is not None:
        inside = set(Unit.objects.filter(path__startswith=within).values_list("id", flat=True))
        units = {pk: unit_id for pk, unit_id in units.items() if unit_id in inside}
    return units
