"""Beat's scheduler, which also records its tick (``Heartbeat`` ``beat``) for /readyz."""

from __future__ import annotations

import logging
import time

from celery.beat import PersistentScheduler
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)


class RecordingScheduler(PersistentScheduler):
    _last_record = 0.0

    def tick(self, *args, **kwargs):
        from django.conf import settings

        now = time.monotonic()
        if now - self._last_record >= min(settings.WORKER_HEARTBEAT_SECONDS, 30):
            self._last_record = now
            from .heartbeat import heartbeat_record

            try:
                heartbeat_record(names=["beat"])
                connection.close()
            except DatabaseError:
                logger.warning("beat heartbeat: the database is unavailable")
        interval = super().tick(*args, **kwargs)
        # wake at least every heartbeat, so the tick stays fresh between rare tasks
        return min(interval, settings.WORKER_HEARTBEAT_SECONDS)
