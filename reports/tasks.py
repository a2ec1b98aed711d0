from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from config.jobs import JOB_TASK_OPTIONS, JobStatus, job_lease_remaining, job_task_run

from .models import AnnualReport, SnapshotRun


@shared_task(**JOB_TASK_OPTIONS)
def refresh_snapshots(self, run_id: int) -> dict:
    """Run the queued snapshot refresh ``run_id`` (debounced: it waits until ``not_before``)."""
    from .snapshots import snapshot_run_execute

    run = SnapshotRun.objects.filter(pk=run_id).first()
    if run is None:
        return {"run_id": run_id, "status": "missing"}
    early = (run.not_before - timezone.now()).total_seconds() if run.status == JobStatus.QUEUED else 0
    if early > 1 and not self.request.is_eager:
        # delivered before its time (e.g. re-sent by the sweeper): changes may still gather
        raise self.retry(countdown=early, max_retries=None)
    run = snapshot_run_execute(run=run)
    if run.status == JobStatus.RUNNING:
        raise self.retry(countdown=job_lease_remaining(job=run) + 1)
    return {"run_id": run_id, "status": run.status, "rows": run.rows}


@shared_task(acks_late=True)
def refresh_snapshots_scheduled() -> dict:
    """Beat: refresh the snapshots of open exams and of this year's training (and any exam or
    year without a snapshot). Joins a run already waiting, if any."""
    from .models import RequestKind
    from .snapshots import snapshot_refresh_request, snapshot_run_enqueue

    run = snapshot_refresh_request(kind=RequestKind.SCHEDULE, delay_seconds=0)
    if run is not None:
        snapshot_run_enqueue(run=run)
    return {"queued": run.pk if run else None}


@shared_task(**JOB_TASK_OPTIONS)
def run_annual_report(self, job_id: int) -> dict:
    """Build and render the annual report recorded as ``AnnualReport`` ``job_id``."""
    from .annual import annual_report_job_run

    return job_task_run(self, model=AnnualReport, pk=job_id, run=lambda job: annual_report_job_run(job=job), key="job_id")
