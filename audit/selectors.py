"""Reads of the audit trail."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditEvent


def audit_events(*, action: str | None = None, target_prefix: str | None = None) -> QuerySet[AuditEvent]:
    """Audit records, newest first, optionally of one action or about one kind of target."""
    events = AuditEvent.objects.select_related("user")
    if action:
        events = events.filter(action=action)
    if target_prefix:
        events = events.filter(target__startswith=target_prefix)
    return events
