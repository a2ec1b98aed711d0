"""Signs of life for /readyz: each worker writes ``worker:<queue>:<host>:<pid>`` for every queue it consumes,
every ``WORKER_HEARTBEAT_SECONDS``, from a thread of its main process; beat writes ``beat`` as
its scheduler ticks."""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from .models import Heartbeat

logger = logging.getLogger(__name__)


def heartbeat_record(*, names: list[str], detail: str = "") -> None:
    now = timezone.now()
    for name in names:
        Heartbeat.objects.update_or_create(name=name, defaults={"at": now, "detail": detail[:200]})


def heartbeat_forget(*, names: list[str]) -> None:
    Heartbeat.objects.filter(name__in=names).delete()


class WorkerHeartbeat:
    """The worker's heartbeat thread: started on ``worker_ready``, stopped on shutdown."""

    def __init__(self, queues: list[str]) -> None:
        # one row per worker and queue, so a worker that stops forgets only its own
        self.detail = f"{socket.gethostname()}:{os.getpid()}"
        self.names = [f"worker:{queue}:{self.detail}" for queue in queues]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="legaltrack-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _beat(self) -> None:
        try:
            close_old_connections()
            heartbeat_record(names=self.names, detail=self.detail)
        except DatabaseError:
            logger.warning("worker heartbeat: the database is unavailable")
        finally:
            connection.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._beat()
            self._stop.wait(settings.WORKER_HEARTBEAT_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        try:
            heartbeat_forget(names=self.names)
            connection.close()
        except DatabaseError:
            pass
