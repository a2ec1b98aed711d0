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


def on_figures_changed(sender: str, *, kind: str, exam_id: int | None = None, **kwargs) -> None:
    """A roster change may bring joiners, leavers and unit moves to exams that have not
    closed. Runs after the roster's commit; a failure here must not undo or fail the sync,
    and the next exam_stats / not_sat / import catches up anyway.

    A change to an exam's figures (results, exemptions) changes who owes its make-up, if it
    has one: the make-up's audience is recomputed (exams.makeup), after the same commit."""
    from config.events import EXAM, ROSTER

    if kind == EXAM and exam_id is not None:
        _makeup_follow(exam_id)
        return
    if kind != ROSTER:
        return
    from .enrolment import exams_refresh_open

    try:
        exams_refresh_open()
    except Exception:
        logger.exception("refreshing open exams after a roster change failed")


def _makeup_follow(exam_id: int) -> None:
    from django.db import transaction

    from .makeup import makeup_audience_sync, makeups_of

    try:
        makeups = makeups_of(exam_ids=[exam_id])
        if makeups:
            with transaction.atomic():
                makeup_audience_sync(makeup_ids=makeups)
    except Exception:
        logger.exception("recomputing a make-up's audience after its main exam changed failed")
