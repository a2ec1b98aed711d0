from __future__ import annotations

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("legaltrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["config"])


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_worker_logs(logger, **kwargs) -> None:
    """A worker sets up its own log handlers: mask ID numbers and phones there too."""
    from .redact import RedactPersonalData

    for handler in logger.handlers:
        if not any(isinstance(f, RedactPersonalData) for f in handler.filters):
            handler.addFilter(RedactPersonalData())
