"""Reads the API needs beyond the apps' own selectors: their querysets with the joins the
API's answers use, so that every list runs a fixed number of queries."""

from __future__ import annotations

from django.db.models import QuerySet

from exams.models import Candidate, Exam
from exams.selectors import exam_not_sat
from roster.models import Unit
from training.models import TrainingEvent


def events_for_api() -> QuerySet[TrainingEvent]:
    """Training events with their organiser and audience units (one query more per page)."""
    return TrainingEvent.objects.select_related("organiser").prefetch_related("audience_units")


def not_sat_for_api(*, exam: Exam, unit: Unit | None) -> QuerySet[Candidate]:
    """``exams.selectors.exam_not_sat``, with each person's current unit joined: whether their
    phone is shown in full depends on it (``Scope.phone_for``)."""
    return exam_not_sat(exam=exam, unit=unit).select_related("staff__unit")
