"""The first participation snapshots for the demo district, once the other apps have seeded
their exams and training: every exam and every training year, alone and rolled up."""

from __future__ import annotations

from django.utils import timezone

from exams.models import Exam, ExamKind

from .narrative import percent
from .selectors import participation_latest
from .snapshots import snapshots_refresh


def seed_demo(*, seed: int) -> str:
    if not Exam.objects.exists():
        return ""
    run = snapshots_refresh(everything=True)
    year = timezone.localdate().year
    law = Exam.objects.filter(year=year, kind=ExamKind.ANNUAL_LAW).order_by("opens_on").first()
    summary = f"统计快照：{len(run.exams)} 个考试、{len(run.years)} 个培训年度，共 {run.rows} 行（{run.duration_ms} 毫秒）"
    if law is not None:
        rows = [r for r in participation_latest(exam=law) if r["depth"] == 1]
        rows.sort(key=lambda r: (r["participation_rate"] is None, r["participation_rate"] or 0))
        if rows:
            low, high = rows[0], rows[-1]
            summary += (
                f"；{law.name}参考率最低的是{low['unit_name']}（{percent(low['participation_rate'])}），"
                f"最高的是{high['unit_name']}（{percent(high['participation_rate'])}）"
            )
    return summary + "。"
