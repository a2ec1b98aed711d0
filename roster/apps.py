from django.apps import AppConfig


class RosterConfig(AppConfig):
    name = "roster"
    verbose_name = "人员名册"

    def ready(self) -> None:
        from config.jobs import JobKind, register_job_kind

        from . import checks  # noqa: F401  (the key canary check)
        from .models import RosterSync
        from .tasks import sync_roster

        register_job_kind("roster_sync", JobKind(model=RosterSync, task=sync_roster))
