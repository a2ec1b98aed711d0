"""The roster lock: roster syncs and single staff writes take turns."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection

from config.errors import Busy

ROSTER_LOCK_ID = 7_340_001
ROSTER_BUSY = "名册正在被其他操作（例如一次同步）更新，请稍后再试。"


def roster_lock(*, wait: float | None = None) -> None:
    """Serialise syncs and staff writes for the rest of the transaction, waiting at most
    ``wait`` seconds (default ``ROSTER_LOCK_WAIT_SECONDS``) and then raising ``Busy``: a hung
    holder must not stall every request behind it. SQLite gets the same effect from its
    IMMEDIATE transactions."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + (settings.ROSTER_LOCK_WAIT_SECONDS if wait is None else wait)
    pause = 0.02
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ROSTER_LOCK_ID])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() >= deadline:
                raise Busy(ROSTER_BUSY)
            time.sleep(pause)
            pause = min(pause * 2, 0.25)
