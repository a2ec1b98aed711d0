from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "提醒"

    def ready(self) -> None:
        from config.jobs import JobKind, register_job_kind

        from .capabilities import grant_reminder_capabilities
        from .models import ReminderJob
        from .sendnow import JOB_KIND
        from .tasks import run_reminder_job

        register_job_kind(JOB_KIND, JobKind(model=ReminderJob, task=run_reminder_job))
        grant_reminder_capabilities()
