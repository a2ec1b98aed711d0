"""Voiding a sign-in sheet import (``sheets.voiding`` decides which rows go): its attendance
records are deleted, set-based."""

from __future__ import annotations

from typing import Any

from django.db import connection

from sheets.models import ImportRecord, SupplyKind

from .events import training_event_changed
from .models import Attendance, TrainingEvent

ATTENDANCE = Attendance._meta.db_table


def attendance_import_void(
    *, record: ImportRecord, removable: dict[str, tuple[str, list[Any]]], dry_run: bool
) -> dict[str, int]:
    event = TrainingEvent.objects.select_for_update().filter(pk=record.target_id).first()
    if event is None:
        return {SupplyKind.ATTENDANCE: 0}
    ids_sql, params = removable[SupplyKind.ATTENDANCE]
    where = f"event_id = %s AND id IN ({ids_sql})"
    with connection.cursor() as cursor:
        if dry_run:
            cursor.execute(f"SELECT COUNT(*) FROM {ATTENDANCE} WHERE {where}", [event.pk, *params])
            return {SupplyKind.ATTENDANCE: int(cursor.fetchone()[0])}
        cursor.execute(f"DELETE FROM {ATTENDANCE} WHERE {where}", [event.pk, *params])
        removed = max(cursor.rowcount, 0)
    if removed:
        training_event_changed(event=event)
    return {SupplyKind.ATTENDANCE: removed}
