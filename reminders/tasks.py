from __future__ import annotations

from celery import shared_task

from config.jobs import JobStatus, job_lease_remaining

from .models import ReminderJob


@shared_task(acks_late=True)
def send_due_reminders() -> dict:
    """Beat, daily at REMINDER_TIME: the weekly digests and the final reminders due today."""
    from .schedule import reminders_send_due

    return reminders_send_due()


@shared_task(acks_late=True)
def retry_reminders() -> dict:
    """Beat, every minute: failed messages due for a retry, and messages whose sender died."""
    from .outbox import outbox_retry_due

    return outbox_retry_due()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5, retry_backoff=True)
def run_reminder_job(self, job_id: int) -> dict:
    """Run the "send now" recorded as ``ReminderJob`` ``job_id``."""
    from .sendnow import reminder_job_run

    job = ReminderJob.objects.filter(pk=job_id).first()
    if job is None:
        return {"job_id": job_id, "status": "missing"}
    job = reminder_job_run(job=job)
    if job.status == JobStatus.RUNNING:
        raise self.retry(countdown=job_lease_remaining(job=job) + 1)
    return {"job_id": job_id, "status": job.status}
