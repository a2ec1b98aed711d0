from __future__ import annotations

from celery import shared_task
from django.conf import settings

from config.jobs import JobStatus, job_lease_remaining

from .models import RosterSync


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
    retry_backoff=True,
)
def sync_roster(self, sync_id: int) -> dict:
    from .sync import roster_sync

    sync = RosterSync.objects.filter(pk=sync_id).first()
    if sync is None:
        return {"sync_id": sync_id, "status": "missing"}
    result = roster_sync(sync=sync)
    if result.status == JobStatus.RUNNING:
        # Another worker holds the lease (or held it and died): look again when it runs out.
        sync.refresh_from_db()
        raise self.retry(countdown=job_lease_remaining(job=sync) + 1)
    return {"sync_id": sync_id, "status": result.status}


@shared_task(acks_late=True)
def scan_roster_drop_dir() -> dict:
    from .dropdir import roster_drop_dir_scan

    if not settings.ROSTER_DROP_DIR:
        return {"queued": []}
    return {"queued": roster_drop_dir_scan(directory=settings.ROSTER_DROP_DIR)}
