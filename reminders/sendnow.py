""""Send now" (the page's button, the API's POST): the command's service run as a job with
progress, through the job helper in ``config.jobs``."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import transaction

from config.errors import DomainError
from config.jobs import JobStatus, job_enqueue, job_finish, job_progress, job_run
from roster.models import Unit

from .models import ReminderJob
from .not_sat import KIND, exam_remindable, remind_not_sat

logger = logging.getLogger(__name__)

JOB_KIND = "reminder_send"
# the job row's progress is written at most this often (and at the end)
PROGRESS_EVERY_SECONDS = 0.5


def reminder_job_create(
    *, exam_id: int | str, dry_run: bool = False, force: bool = False, unit: Unit | None = None,
    started_by: Any = None,
) -> ReminderJob:
    """Record a "send now" for an open exam and send its task once this commits."""
    exam = exam_remindable(exam_id=exam_id)
    with transaction.atomic():
        job = ReminderJob.objects.create(kind=KIND, exam=exam, unit=unit, dry_run=dry_run, force=force,
                                         started_by=started_by)
        job_enqueue(kind=JOB_KIND, pk=job.pk)
    return job


def reminder_job_run(*, job: ReminderJob) -> ReminderJob:
    return job_run(job=job, work=_send, failed="发送提醒失败：发生内部错误。")


def _send(job: ReminderJob) -> None:
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= PROGRESS_EVERY_SECONDS:
            last[0] = now
            job_progress(job=job, done=done, total=total)

    try:
        report = remind_not_sat(exam_id=job.exam_id, within=job.unit, dry_run=job.dry_run, force=job.force,
                                progress=progress)
        job.result = report.as_dict()
        job.status = JobStatus.SUCCEEDED
        job.message = report.summary()
    except DomainError as exc:
        job.status = JobStatus.REFUSED
        job.message = exc.message
    job_finish(job=job, fields=("result",))
