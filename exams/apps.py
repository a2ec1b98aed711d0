from __future__ import annotations

import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class ExamsConfig(AppConfig):
    name = "exams"
    verbose_name = "考试管理"

    def ready(self) -> None:
        from django.db.models import Q

        from config.events import figures_changed_signal
        from config.jobs import JobKind, register_job_kind
        from sheets.models import ImportRecord

        from .models import EXAM_IMPORT_KINDS
        from .tasks import run_exam_import

        register_job_kind(
            "exam_import",
            JobKind(
                model=ImportRecord,
                task=run_exam_import,
                filter=Q(kind__in=EXAM_IMPORT_KINDS),
            ),
        )
        from sheets.models import ImportKind, SupplyKind
        from sheets.voiding import register_voider

        from .voiding import exam_import_void

        register_voider(kind=ImportKind.EXAM_RESULTS, supplies=(SupplyKind.ATTEMPT,), voider=exam_import_void)
        register_voider(kind=ImportKind.EXAM_EXEMPTIONS, supplies=(SupplyKind.EXEMPTION,), voider=exam_import_void)
        figures_changed_signal.connect(on_figures_changed, dispatch_uid="exams.refresh_after_roster_change")


def on_figures_changed(sender: str, *, kind: str, **kwargs) -> None:
    """A roster change may bring joiners, leavers and unit moves to exams that have not
    closed. Runs after the roster's commit; a failure here must not undo or fail the sync,
    and the next exam_stats / not_sat / import catches up anyway."""
    from config.events import ROSTER

    if kind != ROSTER:
        return
    from .enrolment import exams_refresh_open

    try:
        exams_refresh_open()
    except Exception:
        logger.exception("refreshing open exams after a roster change failed")
