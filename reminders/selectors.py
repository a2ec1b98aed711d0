"""Reads for reminders: the messages (for the page and the API, narrowed by the caller's
scope there), the counts by status (for /metrics), the units' robots (hosts only)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from roster.ordering import unit_order

from .models import MessageStatus, ReminderJob, ReminderMessage, UnitChannel


def reminder_messages() -> QuerySet[ReminderMessage]:
    return ReminderMessage.objects.select_related("exam", "unit").order_by("-created_at", "-id")


def reminder_status_counts() -> dict[str, int]:
    """Messages by status, every status present (``{"queued": 0, "sent": 12, "failed": 1}``):
    one query. The series "reminder messages by status" of /metrics."""
    counts = dict.fromkeys(MessageStatus.values, 0)
    for status, n in ReminderMessage.objects.order_by().values_list("status").annotate(n=Count("id")):
        counts[status] = n
    return counts


def unit_channels() -> QuerySet[UnitChannel]:
    return UnitChannel.objects.select_related("unit").order_by(*unit_order("unit__"), "channel")


def reminder_jobs() -> QuerySet[ReminderJob]:
    return ReminderJob.objects.select_related("exam", "unit", "started_by")
