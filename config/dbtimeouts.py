"""Database timeouts for the web process: a request waits a bounded time for a lock or a
statement, so a hung lock holder costs it a 503 within seconds, not a gunicorn timeout.

``idle_in_transaction_session_timeout`` is set for every process in ``settings.DATABASES``
(PostgreSQL ``options``); the two below only for the web, where a request must answer fast
(a job's long statements are bounded by its lease and heartbeat instead)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.backends.signals import connection_created


def _set_web_timeouts(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
            [f"{settings.DB_WEB_LOCK_TIMEOUT_MS}ms", f"{settings.DB_WEB_STATEMENT_TIMEOUT_MS}ms"],
        )


def web_timeouts_install() -> None:
    """Called by ``config.wsgi``: every connection the web process opens gets them."""
    connection_created.connect(_set_web_timeouts, dispatch_uid="config.dbtimeouts.web")


def web_timeouts_uninstall() -> None:
    connection_created.disconnect(dispatch_uid="config.dbtimeouts.web")
