from __future__ import annotations

import datetime as dt
import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "统计与年度报告"

    def ready(self) -> None:
        from django.conf import settings

        from config.events import figures_changed_signal
        from config.jobs import JobKind, register_job_kind

        from .models import AnnualReport, SnapshotRun
        from .tasks import refresh_snapshots, run_annual_report

        register_job_kind(
            "snapshot_refresh",
            JobKind(
                model=SnapshotRun,
                task=refresh_snapshots,
                # a waiting run is sent with a countdown: it is lost only once that has passed
                requeue_after=dt.timedelta(seconds=settings.REPORTS_REFRESH_DEBOUNCE_SECONDS + 120),
            ),
        )
        register_job_kind("annual_report", JobKind(model=AnnualReport, task=run_annual_report))
        figures_changed_signal.connect(on_figures_changed, dispatch_uid="reports.refresh_snapshots")


def on_figures_changed(sender: str, *, kind: str, exam_id: int | None = None, year: int | None = None, **kwargs) -> None:
    """Figures changed (after the change committed): record it and, unless a refresh is
    already waiting, queue one to start after the debounce delay. With eager Celery (no
    broker) the refresh runs at once, at the end of the import. A failure here must never
    undo or fail the import; the hourly refresh catches up."""
    from .snapshots import snapshot_refresh_request, snapshot_run_enqueue, snapshot_run_execute

    try:
        from config.celery import app

        eager = app.conf.task_always_eager
        run = snapshot_refresh_request(kind=kind, exam_id=exam_id, year=year, delay_seconds=0 if eager else None)
        if run is None:
            return
        if eager:
            # no broker: refresh here and now (the import has committed)
            snapshot_run_execute(run=run)
        else:
            snapshot_run_enqueue(run=run)
    except Exception:
        logger.exception("queueing a snapshot refresh after a %s change failed", kind)
