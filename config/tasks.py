from __future__ import annotations

from celery import shared_task

from .jobs import jobs_redispatch_stale


@shared_task
def redispatch_stale_jobs() -> dict:
    return jobs_redispatch_stale()
