"""Announce that stored figures changed, once the change has committed.

Services call ``figures_changed`` after a roster sync, a results or exemptions import, or
an attendance import. The reports app listens and schedules a debounced recomputation of
the participation snapshots. Receivers get ids and years only, never personal data."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

# sent with: kind (str), exam_id (int | None), year (int | None)
figures_changed_signal = Signal()

ROSTER = "roster"
EXAM = "exam"
TRAINING = "training"


def figures_changed(*, kind: str, exam_id: int | None = None, year: int | None = None) -> None:
    transaction.on_commit(
        lambda: figures_changed_signal.send(sender=kind, kind=kind, exam_id=exam_id, year=year)
    )
