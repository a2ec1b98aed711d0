"""Reads the pages need, composed from the apps' selectors and narrowed by the caller's scope.
No figure is defined here: exam figures come from ``exams.selectors`` (``figure_aggregates``,
``figures_from_counts``), the not-sat list from ``exam_not_sat`` (with the join the API uses),
masking from the scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from access import scoping
from access.scoping import Scope
from api.selectors import not_sat_for_api
from config.dbrouter import replica_read
from exams.models import Candidate, Exam, ExamKind
from exams.selectors import exam_list, figure_aggregates, figures_from_counts, not_sat_entries
from reminders.models import ReminderMessage
from reminders.selectors import reminder_messages
from reports.selectors import participation_latest, participation_trend
from roster.models import Unit
from roster.ordering import unit_order
from sheets.models import ImportKind, ImportRecord
from training.models import TrainingEvent
from training.selectors import event_attendances, events_list


def picker_units(scope: Scope) -> QuerySet[Unit]:
    """The units the caller may pick, in tree order."""
    return scope.units().filter(is_active=True).order_by(*unit_order()).only("id", "code", "name", "depth", "path", "tree_key")


def default_unit(scope: Scope) -> Unit | None:
    """Where a page without a unit starts: the liaison's unit, else the district's root."""
    if scope.unit is not None:
        return scope.unit
    return scope.units().filter(parent__isnull=True).order_by(*unit_order()).first()


@replica_read
def exams_figures(*, scope: Scope, exams: Iterable[Exam]) -> dict[int, dict[str, Any]]:
    """Each exam's figures over the caller's subtree, in one grouped query."""
    ids = [exam.pk for exam in exams]
    if not ids:
        return {}
    candidates = scope.narrow(Candidate.objects.filter(exam_id__in=ids), unit_field="unit")
    rows = candidates.order_by().values("exam_id").annotate(**figure_aggregates())
    return {row.pop("exam_id"): figures_from_counts(row) for row in rows}


@replica_read
def not_sat_rows(*, scope: Scope, exam: Exam, unit: Unit) -> list[dict[str, str]]:
    """The not-sat list of a unit's subtree as the caller may see it: the exams app's entries,
    with the phone as the scope shows it (the API's rule). One query."""
    candidates = list(scope.narrow(not_sat_for_api(exam=exam, unit=unit)))
    entries = not_sat_entries(candidates)
    for entry, candidate in zip(entries, candidates, strict=True):
        entry["phone"] = scope.phone_for(candidate.staff) or ""
        # a link to the person's learning record where the caller may read it (by current unit)
        entry["record"] = record_linkable(scope, candidate.staff)
    return entries


def record_linkable(scope: Scope, staff: Any) -> bool:
    """Whether a list links a person to their learning record: the caller reads records and
    the person's current unit (``staff.unit``, joined) lies in their subtree."""
    return scope.can(scoping.RECORDS_READ) and scope.contains_path(staff.unit.path)


def visible_exams(scope: Scope) -> QuerySet[Exam]:
    return scope.exams(exam_list())


def managed_exams(scope: Scope) -> QuerySet[Exam]:
    """Exams the caller may change (``Scope.exams_managed``: a scoped office, those it owns)."""
    return scope.exams_managed(exam_list())


def visible_events(scope: Scope) -> QuerySet[TrainingEvent]:
    """Events the caller may read (``Scope.events``)."""
    return scope.events(events_list())


def managed_events(scope: Scope) -> QuerySet[TrainingEvent]:
    """Events the caller may run: record attendance, upload sheets, show the QR code."""
    return scope.events_managed(events_list())


def visible_attendance(*, scope: Scope, event: TrainingEvent) -> QuerySet:
    """An event's attendance from the caller's subtree (by the unit on the event's day), each
    person's current unit joined (``record_linkable``)."""
    return scope.narrow(event_attendances(event=event), unit_field="unit").select_related("staff__unit")


def imports_of(*, scope: Scope, kinds: Iterable[str], target_id: int) -> QuerySet[ImportRecord]:
    return scope.imports(
        ImportRecord.objects.filter(kind__in=list(kinds), target_id=target_id).select_related("started_by")
    ).order_by("-created_at", "-id")


ATTENDANCE_KINDS = (ImportKind.ATTENDANCE,)


# --- the unit dashboard (from the reports app's snapshots) ------------------------------


def dashboard_exam(*, scope: Scope, exam_id: str | None, today: dt.date | None = None) -> Exam | None:
    """The exam a dashboard shows: the one asked for (``?exam=``), else the open exam (the
    yearly law exam first), else the latest."""
    exams = visible_exams(scope)
    if exam_id:
        return scope.get(exams, pk=exam_id)
    today = today or timezone.localdate()
    open_now = exams.filter(opens_on__lte=today, closes_on__gte=today)
    return (
        open_now.filter(kind=ExamKind.ANNUAL_LAW).order_by("-opens_on", "-id").first()
        or open_now.order_by("-opens_on", "-id").first()
        or exams.order_by("-closes_on", "-id").first()
    )


@dataclass
class Dashboard:
    """A unit's figures as the reports app stored them: the unit (rolled up), the unit alone
    when it has sub-units, and each direct sub-unit (rolled up); for the open exam and for the
    year's training; and when they were computed."""

    exam_total: dict[str, Any] | None = None
    exam_own: dict[str, Any] | None = None
    exam_children: list[dict[str, Any]] = field(default_factory=list)
    training_total: dict[str, Any] | None = None
    training_own: dict[str, Any] | None = None
    training_children: list[dict[str, Any]] = field(default_factory=list)
    exam_computed_at: dt.datetime | None = None
    training_computed_at: dt.datetime | None = None
    trend: list[dict[str, Any]] = field(default_factory=list)


def _split(rows: list[dict[str, Any]], own: list[dict[str, Any]], unit: Unit, counted: tuple[str, ...]) -> tuple[Any, Any, list]:
    """The unit's rolled-up row, its own row (only beside sub-units, and when it counts
    anybody: ``counted`` names the figures that say so), and its direct sub-units' rows."""
    total = next((r for r in rows if r["unit_id"] == unit.pk), None)
    children = [r for r in rows if r["parent_id"] == unit.pk]
    alone = next((r for r in own if r["unit_id"] == unit.pk and any(r[k] for k in counted)), None) if children else None
    return total, alone, children


@replica_read
def unit_dashboard(*, unit: Unit, exam: Exam | None, year: int, trend_days: int = 30) -> Dashboard:
    """Read from the latest snapshots (``reports.selectors.participation_latest``) and one
    unit's trend over the last ``trend_days`` (``participation_trend``); nothing is computed
    here. Seven queries, whatever the number of units."""
    board = Dashboard()
    if exam is not None:
        rolled = participation_latest(exam=exam, unit=unit, rollup=True)
        alone = [r for r in participation_latest(exam=exam, unit=unit, rollup=False) if r["unit_id"] == unit.pk]
        board.exam_total, board.exam_own, board.exam_children = _split(rolled, alone, unit, ("candidates",))
        board.exam_computed_at = max((r["computed_at"] for r in rolled), default=None)
        since = timezone.now() - dt.timedelta(days=trend_days)
        board.trend = participation_trend(unit=unit, exam=exam, since=since)
    training = [r for r in participation_latest(year=year, unit=unit, rollup=True) if r["scope"] == "training"]
    alone = [r for r in participation_latest(year=year, unit=unit, rollup=False)
             if r["scope"] == "training" and r["unit_id"] == unit.pk]
    board.training_total, board.training_own, board.training_children = _split(
        training, alone, unit, ("attendances", "staff_below_hours")
    )
    board.training_computed_at = max((r["computed_at"] for r in training), default=None)
    return board


# --- reminders --------------------------------------------------------------------------


def visible_reminders(
    *, scope: Scope, exam_id: int | None = None, status: str = "", channel: str = ""
) -> QuerySet[ReminderMessage]:
    """The messages of 提醒记录: every one for the legal-affairs office, those of their
    subtree for a liaison; exam, unit and status joined."""
    qs = scope.narrow(reminder_messages(), unit_field="unit")
    if exam_id:
        qs = qs.filter(exam_id=exam_id)
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    return qs


def remindable_exams(*, scope: Scope, today: dt.date | None = None) -> QuerySet[Exam]:
    """Exams a "send now" may name: those the caller manages that have not closed."""
    return managed_exams(scope).filter(closes_on__gte=today or timezone.localdate()).order_by("closes_on", "id")
