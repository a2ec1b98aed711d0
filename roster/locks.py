"""The roster lock: roster syncs and single staff writes take turns."""

from __future__ import annotations

from django.db import connection

ROSTER_LOCK_ID = 7_340_001


def roster_lock() -> None:
    """Serialise syncs: a second one waits here until the first commits. SQLite gets the same
    effect from its IMMEDIATE transactions."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROSTER_LOCK_ID])
