"""Reads for training: the year's figures, who is below the study-hours requirement, the
unit a person belonged to on a given day.

The training figures are defined here once, as SQL aggregates; the command line, the API and
the annual report all read them from here:

- ``events``: events dated in the year (with a unit: those attended from its subtree);
- ``by_kind``: events per kind, only kinds that had events;
- ``attendances`` (人次): attendance records whose status is present or late
  (``counted_q``, the one rule);
- ``staff_trained`` (人数): distinct people among those records;
- ``person_hours`` (学时): the sum of the events' hours over those records (``hours_sum``).

A person's hours (``hours_of_staff``, the learning record, ``hours_below``) are the same
records of that person, summed by the same expression.

With a unit, the records are those whose frozen unit (the unit on the event's date) lies in
the unit's subtree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, DecimalField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from roster.history import staff_units_on  # noqa: F401  (the attendance imports' name for it)
from roster.models import Staff, Unit
from roster.ordering import unit_order

from .models import (
    ATTENDED,
    DEFAULT_REQUIRED_HOURS,
    Attendance,
    Audience,
    EventKind,
    StudyHoursRequirement,
    TrainingEvent,
    TrainingTarget,
)

_CHUNK = 2000


def year_range(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)


def events_in_year(*, year: int) -> QuerySet[TrainingEvent]:
    start, end = year_range(year)
    return TrainingEvent.objects.filter(date__gte=start, date__lt=end)


def counted_q(*, year: int | None = None, prefix: str = "") -> Q:
    """THE rule of what the training figures count: an attendance record whose status is
    present or late, of an event dated in the year (any year when ``year`` is None: a list
    already narrowed to one year). ``prefix`` reaches attendances through a relation
    (``attendances__`` from staff). Every figure, a unit's and a person's, is built on it."""
    q = Q(**{f"{prefix}status__in": ATTENDED})
    if year is not None:
        start, end = year_range(year)
        q &= Q(**{f"{prefix}event__date__gte": start, f"{prefix}event__date__lt": end})
    return q


def hours_counted_q(*, prefix: str = "") -> Q:
    """The records whose event's kind counts study hours: every kind but those the kinds table
    marks as not counting (述法 and 出庭应诉 as seeded). A subquery, so a figure stays one query."""
    not_counting = EventKind.objects.filter(counts_hours=False).values("code")
    return ~Q(**{f"{prefix}event__kind__in": not_counting})


def hours_sum(*, prefix: str = "", filter: Q | None = None) -> Sum:
    """The hours of the records counted: the sum of their events' hours, over the kinds that
    count hours (``hours_counted_q``)."""
    counted = hours_counted_q(prefix=prefix)
    filter = counted if filter is None else filter & counted
    return Sum(f"{prefix}event__hours", filter=filter,
               output_field=DecimalField(max_digits=12, decimal_places=2))


def attended_in_year(*, year: int, unit: Unit | None = None) -> QuerySet[Attendance]:
    """The attendance records that count (``counted_q``) of events dated in the year; with a
    unit, those whose frozen unit lies in its subtree."""
    qs = Attendance.objects.filter(counted_q(year=year))
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs


def training_stats(*, year: int, unit: Unit | None = None) -> dict[str, Any]:
    """The year's training figures (see the module docstring): three queries."""
    attended = attended_in_year(year=year, unit=unit)
    events = events_in_year(year=year)
    if unit is not None:
        events = events.filter(Exists(attended.filter(event=OuterRef("pk")).order_by()))
    by_kind = {
        kind: n for kind, n in events.order_by().values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
    }
    figures = attended.order_by().aggregate(
        attendances=Count("id"),
        staff_trained=Count("staff_id", distinct=True),
        person_hours=hours_sum(),
    )
    return {
        "events": sum(by_kind.values()),
        "by_kind": dict(sorted(by_kind.items())),
        "attendances": figures["attendances"],
        "staff_trained": figures["staff_trained"],
        "person_hours": figures["person_hours"] or Decimal("0"),
    }


def hours_of_staff(*, year: int, staff_ids: Iterable[int]) -> dict[int, Decimal]:
    """Each person's hours in the year: the records ``training_stats`` counts, summed per
    person (people without any are left out: 0). One query per 2,000 people."""
    ids = sorted(set(staff_ids))
    hours: dict[int, Decimal] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = (
            attended_in_year(year=year)
            .filter(staff_id__in=ids[start : start + _CHUNK])
            .order_by()
            .values("staff_id")
            .annotate(hours=hours_sum())
            .values_list("staff_id", "hours")
        )
        hours.update(rows)
    return hours


def staff_attendances(*, staff_ids: Iterable[int], year: int | None = None) -> QuerySet[Attendance]:
    """Every attendance record of these people (any status), of events in the year when given,
    oldest first, with the event and the unit of the day joined, and ``counted_hours``: the
    event's hours where the record counts (``counted_q``), else 0."""
    qs = Attendance.objects.filter(staff_id__in=list(staff_ids))
    if year is not None:
        start, end = year_range(year)
        qs = qs.filter(event__date__gte=start, event__date__lt=end)
    return qs.select_related("event", "unit").annotate(
        counted_hours=Case(
            When(counted_q() & hours_counted_q(), then=F("event__hours")),
            default=Value(Decimal("0")),
            output_field=DecimalField(max_digits=5, decimal_places=2),
        )
    ).order_by("staff_id", "event__date", "event_id")


def required_hours(*, year: int) -> Decimal:
    """The year's study-hours requirement: as configured, else 40."""
    hours = StudyHoursRequirement.objects.filter(year=year).values_list("hours", flat=True).first()
    return hours if hours is not None else DEFAULT_REQUIRED_HOURS


def required_hours_of(*, years: Iterable[int]) -> dict[int, Decimal]:
    """``required_hours`` for several years in one query."""
    years = set(years)
    configured = dict(StudyHoursRequirement.objects.filter(year__in=years).values_list("year", "hours"))
    return {year: configured.get(year, DEFAULT_REQUIRED_HOURS) for year in years}


def default_required_hours(*, year: int) -> Decimal:
    """What the year requires of everyone without a category target: the year's default
    ``TrainingTarget`` (the row without a category), else ``required_hours`` (the yearly
    setting, else 40)."""
    hours = TrainingTarget.objects.filter(year=year, category__isnull=True).values_list("hours", flat=True).first()
    return hours if hours is not None else required_hours(year=year)


def required_hours_expression(*, year: int, category: str = "category") -> Coalesce:
    """Each person's required hours in the year, as one SQL expression over a Staff queryset:
    the target of their 人员类别 (``category`` reaches it), else the default
    (``default_required_hours``). Correlated subqueries on the (year, category) key."""
    target = TrainingTarget.objects.filter(year=year, category=OuterRef(category)).values("hours")[:1]
    default = TrainingTarget.objects.filter(year=year, category__isnull=True).values("hours")[:1]
    setting = StudyHoursRequirement.objects.filter(year=year).values("hours")[:1]
    # all in SQL: a list stays one query
    return Coalesce(
        Subquery(target), Subquery(default), Subquery(setting), Value(DEFAULT_REQUIRED_HOURS),
        output_field=DecimalField(max_digits=6, decimal_places=2),
    )


def required_hours_of_staff(*, year: int, staff_ids: Iterable[int]) -> dict[int, Decimal]:
    """Each person's required hours in the year (``required_hours_expression``): one query per
    2,000 people."""
    ids = sorted(set(staff_ids))
    required: dict[int, Decimal] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = (
            Staff.objects.filter(pk__in=ids[start : start + _CHUNK])
            .order_by()
            .annotate(required=required_hours_expression(year=year))
            .values_list("pk", "required")
        )
        required.update(rows)
    return required


def training_targets(*, year: int) -> QuerySet[TrainingTarget]:
    """The year's targets, the default row first, then by category."""
    return TrainingTarget.objects.filter(year=year).order_by(F("category").asc(nulls_first=True))


def staff_hours(*, year: int) -> QuerySet[Staff]:
    """Staff annotated with ``hours``: their attended hours in the year (0 when none)."""
    prefix = "attendances__"
    return Staff.objects.annotate(
        hours=Coalesce(
            hours_sum(prefix=prefix, filter=counted_q(year=year, prefix=prefix)),
            Value(Decimal("0")),
            output_field=DecimalField(max_digits=8, decimal_places=2),
        )
    )


def hours_below(*, year: int, unit: Unit | None = None) -> QuerySet[Staff]:
    """Active staff (of the unit's subtree, by their current unit) whose hours in the year
    are below what the year requires of them (``required_hours_expression``: their category's
    target, else the default), fewest hours first within each unit; ``hours`` and
    ``required_hours`` annotated and the unit joined."""
    qs = (
        staff_hours(year=year)
        .annotate(required_hours=required_hours_expression(year=year))
        .filter(is_active=True, hours__lt=F("required_hours"))
    )
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs.select_related("unit").order_by(*unit_order("unit__"), "hours", "staff_no")


def event_by_token(token: str) -> TrainingEvent | None:
    if not token or len(token) > 64:
        return None
    return TrainingEvent.objects.filter(signin_token=token).select_related("organiser").first()


def events_list() -> QuerySet[TrainingEvent]:
    """Events with their organiser and the number of people who attended (``attended``)."""
    return TrainingEvent.objects.select_related("organiser").annotate(
        attended=Count("attendances", filter=Q(attendances__status__in=ATTENDED))
    )


def event_attendances(*, event: TrainingEvent) -> QuerySet[Attendance]:
    return (
        Attendance.objects.filter(event=event)
        .select_related("staff", "unit")
        .order_by(*unit_order("unit__"), "staff__staff_no")
    )


def event_audience(*, event: TrainingEvent, unit: Unit | None = None) -> QuerySet[Staff]:
    """The people an event expects (its 参加对象), active on the roster, by their current unit:
    everyone for a district event, the people of the listed units' subtrees for one of
    指定单位, the unit heads (正职) for one of 单位主要负责人; with ``unit``, those of its
    subtree. By unit, then 工号; the unit joined. One query."""
    qs = Staff.objects.filter(is_active=True).select_related("unit")
    if event.audience == Audience.UNIT_HEADS:
        qs = qs.filter(is_head=True)
    elif event.audience == Audience.UNITS:
        invited = TrainingEvent.audience_units.through.objects.filter(trainingevent_id=event.pk)
        paths = Unit.objects.filter(pk__in=invited.values("unit_id")).values_list("path", flat=True)
        condition = Q(pk__in=[])
        for path in paths:
            condition |= Q(unit__path__startswith=path)
        qs = qs.filter(condition)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs.order_by(*unit_order("unit__"), "staff_no")
