from __future__ import annotations

import os

from celery import Celery
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    beat_init,
    before_task_publish,
    task_postrun,
    task_prerun,
    worker_init,
    worker_ready,
    worker_shutdown,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

def _survive_redis_blips() -> None:
    """A worker holding unacknowledged messages (the snapshot debounce, the lease-retry
    countdowns: almost always) used to die when Redis went away: on the lost connection kombu
    closes the channel and restores those messages through a connection that is already gone,
    ``AttributeError("'NoneType' object has no attribute 'hostname'")`` (or a connection error)
    escapes, and the worker stops with "Unrecoverable error". Here that restore is skipped with
    a warning instead, and the consumer reconnects as it does for any lost connection. Nothing
    is lost: the messages stay in Redis' unacked index (restored after the visibility timeout)
    and every job's record is re-sent by the sweeper while it is queued or its lease runs out.
    tests/jobs/test_worker_survives_redis.py stops and starts a real worker's Redis."""
    import logging

    from kombu.transport import redis as kombu_redis

    original = kombu_redis.QoS.restore_unacked
    if getattr(original, "legaltrack_safe", False):
        return

    def restore_unacked(self, client=None):
        try:
            return original(self, client)
        except (AttributeError, OSError, kombu_redis.get_redis_ConnectionError()) as exc:
            logging.getLogger("config.celery").warning(
                "Redis unavailable while restoring %d unacknowledged message(s) (%s); the worker reconnects, "
                "the sweeper re-sends their jobs", len(self._delivered), type(exc).__name__,
            )
            self._delivered.clear()
            return None

    restore_unacked.legaltrack_safe = True
    kombu_redis.QoS.restore_unacked = restore_unacked


_survive_redis_blips()

app = Celery("legaltrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["config"])


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_worker_logs(logger, **kwargs) -> None:
    """A worker sets up its own log handlers: mask ID numbers and phones there too."""
    from django.conf import settings

    from .logs import ContextFilter, JsonFormatter
    from .redact import RedactPersonalData

    for handler in logger.handlers:
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
        if not any(isinstance(f, RedactPersonalData) for f in handler.filters):
            handler.addFilter(RedactPersonalData())
        if getattr(settings, "LOG_FORMAT", "plain") == "json":
            handler.setFormatter(JsonFormatter())


def _connect_log_context() -> None:
    from .logs import task_postrun_clear_context, task_prerun_set_context, task_publish_add_request_id

    before_task_publish.connect(task_publish_add_request_id, weak=False)
    task_prerun.connect(task_prerun_set_context, weak=False)
    task_postrun.connect(task_postrun_clear_context, weak=False)


_connect_log_context()


def _connect_metrics() -> None:
    from .metrics import task_postrun as metrics_postrun
    from .metrics import task_prerun as metrics_prerun

    task_prerun.connect(metrics_prerun, weak=False)
    task_postrun.connect(metrics_postrun, weak=False)


_connect_metrics()


def _connect_primary_only() -> None:
    """Tasks (jobs and beat tasks) never read from the replica (config/dbrouter.py)."""
    from .dbrouter import task_postrun_primary_only, task_prerun_primary_only

    task_prerun.connect(task_prerun_primary_only, weak=False)
    task_postrun.connect(task_postrun_primary_only, weak=False)


_connect_primary_only()


@worker_init.connect
@beat_init.connect
def _refuse_wrong_field_keys(**kwargs) -> None:
    """A worker or beat does not start with keys that do not fit the stored data."""
    from roster.fieldkeys import field_keys_refuse_start

    field_keys_refuse_start()


_heartbeat = None


@worker_ready.connect
def _start_worker_heartbeat(sender=None, **kwargs) -> None:
    """Write ``worker:<queue>`` for /readyz while this worker runs."""
    global _heartbeat
    from ops.heartbeat import WorkerHeartbeat

    queues = [queue.name for queue in getattr(getattr(sender, "task_consumer", None), "queues", [])]
    _heartbeat = WorkerHeartbeat(queues or [app.conf.task_default_queue])
    _heartbeat.start()
    _serve_worker_metrics()


def _serve_worker_metrics() -> None:
    """The worker's task counts and durations on METRICS_WORKER_PORT (the pool children's
    values too, through PROMETHEUS_MULTIPROC_DIR)."""
    from django.conf import settings

    if settings.METRICS_WORKER_PORT:
        from prometheus_client import start_http_server

        from .metrics import registry

        start_http_server(settings.METRICS_WORKER_PORT, registry=registry())


@worker_shutdown.connect
def _stop_worker_heartbeat(**kwargs) -> None:
    if _heartbeat is not None:
        _heartbeat.stop()
