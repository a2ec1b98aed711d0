from __future__ import annotations

from celery import shared_task

from config.jobs import JOB_TASK_OPTIONS, job_task_run

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


@shared_task(**JOB_TASK_OPTIONS)
def run_reminder_job(self, job_id: int) -> dict:
    """Run the "send now" recorded as ``ReminderJob`` ``job_id``."""
    from .sendnow import reminder_job_run

    return job_task_run(self, model=ReminderJob, pk=job_id, run=lambda job: reminder_job_run(job=job), key="job_id")
