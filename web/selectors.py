"""Reads the pages need, composed from the apps' selectors and narrowed by the caller's scope.
No figure is defined here: exam figures come from ``exams.selectors`` (``figure_aggregates``,
``figures_from_counts``), the not-sat list from ``exam_not_sat`` (with the join the API uses),
masking from the scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from api.scoping import Scope
from api.selectors import not_sat_for_api
from exams.models import Candidate, Exam
from exams.selectors import exam_list, figure_aggregates, figures_from_counts, not_sat_entries
from roster.models import Unit
from sheets.models import ImportKind, ImportRecord
from training.models import TrainingEvent
from training.selectors import event_attendances, events_list


def picker_units(scope: Scope) -> QuerySet[Unit]:
    """The units the caller may pick, in tree order."""
    return scope.units().filter(is_active=True).order_by("path").only("id", "code", "name", "depth", "path")


def default_unit(scope: Scope) -> Unit | None:
    """Where a page without a unit starts: the liaison's unit, else the district's root."""
    if scope.unit is not None:
        return scope.unit
    return scope.units().filter(parent__isnull=True).order_by("sort_order", "code").first()


def exams_figures(*, scope: Scope, exams: Iterable[Exam]) -> dict[int, dict[str, Any]]:
    """Each exam's figures over the caller's subtree, in one grouped query."""
    ids = [exam.pk for exam in exams]
    if not ids:
        return {}
    candidates = scope.narrow(Candidate.objects.filter(exam_id__in=ids), unit_field="unit")
    rows = candidates.order_by().values("exam_id").annotate(**figure_aggregates())
    return {row.pop("exam_id"): figures_from_counts(row) for row in rows}


def not_sat_rows(*, scope: Scope, exam: Exam, unit: Unit) -> list[dict[str, str]]:
    """The not-sat list of a unit's subtree as the caller may see it: the exams app's entries,
    with the phone as the scope shows it (the API's rule). One query."""
    candidates = list(scope.narrow(not_sat_for_api(exam=exam, unit=unit)))
    entries = not_sat_entries(candidates)
    for entry, candidate in zip(entries, candidates, strict=True):
        entry["phone"] = scope.phone_for(candidate.staff) or ""
    return entries


def visible_exams(scope: Scope) -> QuerySet[Exam]:
    return scope.exams(exam_list())


def visible_events(scope: Scope) -> QuerySet[TrainingEvent]:
    """Events the caller sees: all for roles that see everywhere; for a liaison, those
    organised by a unit of their subtree."""
    return scope.events(events_list())


def visible_attendance(*, scope: Scope, event: TrainingEvent) -> QuerySet:
    """An event's attendance from the caller's subtree (by the unit on the event's day)."""
    return scope.narrow(event_attendances(event=event), unit_field="unit")


def imports_of(*, scope: Scope, kinds: Iterable[str], target_id: int) -> QuerySet[ImportRecord]:
    return scope.imports(
        ImportRecord.objects.filter(kind__in=list(kinds), target_id=target_id).select_related("started_by")
    ).order_by("-created_at", "-id")


ATTENDANCE_KINDS = (ImportKind.ATTENDANCE,)
