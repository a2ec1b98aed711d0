from __future__ import annotations

from celery import shared_task

from config.jobs import JOB_TASK_OPTIONS, job_task_run
from sheets.models import ImportRecord

from .models import EXAM_IMPORT_KINDS


@shared_task(**JOB_TASK_OPTIONS)
def run_exam_import(self, record_id: int) -> dict:
    """Run a results or exemptions import recorded as ``ImportRecord`` ``record_id``."""
    from .imports import exam_import_run

    return job_task_run(self, model=ImportRecord, pk=record_id, run=lambda record: exam_import_run(record=record),
                        key="import_id", kind__in=EXAM_IMPORT_KINDS)
