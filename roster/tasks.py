from __future__ import annotations

from celery import shared_task
from django.conf import settings

from config.jobs import JOB_TASK_OPTIONS, job_task_run

from .models import RosterSync


@shared_task(**JOB_TASK_OPTIONS)
def sync_roster(self, sync_id: int) -> dict:
    from .sync import roster_sync

    return job_task_run(self, model=RosterSync, pk=sync_id, run=lambda sync: roster_sync(sync=sync), key="sync_id")


@shared_task(**JOB_TASK_OPTIONS)
def undo_roster_sync(self, sync_id: int) -> dict:
    from .models import SyncKind
    from .undo import roster_undo

    return job_task_run(self, model=RosterSync, pk=sync_id, run=lambda sync: roster_undo(sync=sync), key="sync_id",
                        kind=SyncKind.UNDO)


@shared_task(acks_late=True)
def scan_roster_drop_dir() -> dict:
    from .dropdir import roster_drop_dir_scan

    if not settings.ROSTER_DROP_DIR:
        return {"queued": []}
    return {"queued": roster_drop_dir_scan(directory=settings.ROSTER_DROP_DIR)}
