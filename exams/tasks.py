from __future__ import annotations

from celery import shared_task

from config.jobs import JobStatus, job_lease_remaining
from sheets.models import ImportRecord

from .models import EXAM_IMPORT_KINDS


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
    retry_backoff=True,
)
def run_exam_import(self, record_id: int) -> dict:
    """Run a results or exemptions import recorded as ``ImportRecord`` ``record_id``."""
    from .imports import exam_import_run

    record = ImportRecord.objects.filter(pk=record_id, kind__in=EXAM_IMPORT_KINDS).first()
    if record is None:
        return {"import_id": record_id, "status": "missing"}
    result = exam_import_run(record=record)
    if result.status == JobStatus.RUNNING:
        # another worker holds the lease (or held it and died): look again when it runs out
        record.refresh_from_db()
        raise self.retry(countdown=job_lease_remaining(job=record) + 1)
    return {"import_id": record_id, "status": result.status}
