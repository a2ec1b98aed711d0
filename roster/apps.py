from django.apps import AppConfig


class RosterConfig(AppConfig):
    name = "roster"
    verbose_name = "人员名册"

    def ready(self) -> None:
        from django.db.models import Q

        from config.jobs import JobKind, register_job_kind

        from . import checks  # noqa: F401  (the key canary check)
        from .models import RosterSync, SyncKind
        from .tasks import sync_roster, undo_roster_sync

        # one model, two kinds: the sweeper sends each record to its own task
        register_job_kind("roster_sync", JobKind(model=RosterSync, task=sync_roster, filter=~Q(kind=SyncKind.UNDO)))
        register_job_kind("roster_undo", JobKind(model=RosterSync, task=undo_roster_sync, filter=Q(kind=SyncKind.UNDO)))
