"""The not-sat digest of an exam: "who has not sat yet", per recipient's subtree. The figures
are the exams app's (``exam_stats_by_unit`` rolled up, ``exam_not_sat`` for the names)."""

from __future__ import annotations

import datetime as dt
from functools import partial

from django.conf import settings
from django.utils import timezone

from config.errors import DomainError
from exams.enrolment import exam_refresh
from exams.imports import exam_get
from exams.models import Exam
from exams.selectors import exam_not_sat, exam_stats_by_unit
from roster.models import Unit

from .digests import Composed, Digest, DigestUnit, UnitFigures, names_line, percent, period_day, period_week
from .outbox import Progress, SendReport, digest_send
from .subjects import unit_within

KIND = "not_sat"


def exam_subject_key(exam: Exam) -> str:
    return f"exam:{exam.pk}"


def days_left_text(*, closes_on: dt.date, today: dt.date) -> str:
    days = (closes_on - today).days
    return "今天截止" if days == 0 else f"还剩 {days} 天"


def not_sat_compose(unit: DigestUnit, *, exam: Exam, today: dt.date, final: bool) -> Composed:
    figures = unit.figures
    heading = "最后提醒" if final else "未参考提醒"
    link = f"{settings.SITE_URL}/exams/{exam.pk}/not-sat/{unit.unit.code}/"
    header = [
        f"### {exam.name}：{heading}",
        f"**单位**：{unit.unit.name}（含下级单位）",
        f"**截止日期**：{exam.closes_on:%Y-%m-%d}（{days_left_text(closes_on=exam.closes_on, today=today)}）",
        f"**应考**：{figures.expected} 人，**未参考**：{figures.count} 人，**参考率**：{percent(figures.rate)}",
        *names_line("未参考人员", unit),
    ]
    items = [f"- {child.name}：{child_figures.count} 人" for child, child_figures in unit.children]
    if items:
        header.append("**下级单位未参考人数**：")
    return Composed(
        title=f"【{heading}】{exam.name}：{unit.unit.name}未参考 {figures.count} 人",
        header=header, items=items, footer=[f"[查看未参考名单]({link})"],
    )


def not_sat_digest(*, exam: Exam, today: dt.date, final: bool = False) -> Digest:
    """The exam's digest for every unit: two queries for the figures of all units, one more
    for the names when ``REMINDER_INCLUDE_NAMES``."""
    exam_refresh(exam=exam)
    figures = {
        row["unit_id"]: UnitFigures(count=row["not_sat"], expected=row["expected"])
        for row in exam_stats_by_unit(exam=exam, rollup=True)
    }
    names = exam_not_sat(exam=exam).values_list("unit_id", "staff__name") if settings.REMINDER_INCLUDE_NAMES else ()
    return Digest(
        kind=KIND, subject_key=exam_subject_key(exam), period=period_day(today) if final else period_week(today),
        figures=figures, compose=partial(not_sat_compose, exam=exam, today=today, final=final), exam_id=exam.pk,
        names=names, report={"exam_id": exam.pk},
    )


def exam_remindable(*, exam_id: int | str, today: dt.date | None = None) -> Exam:
    """The exam, when reminders may go out for it: it exists and has not closed."""
    exam = exam_get(exam_id=exam_id)
    if exam.is_closed(today or timezone.localdate()):
        raise DomainError(f"考试已截止（{exam.closes_on:%Y-%m-%d}），不再发送提醒：编号 {exam.pk}。", code="conflict")
    return exam


def remind_not_sat(
    *, exam_id: int | str, unit_code: str | None = None, within: Unit | None = None, dry_run: bool = False,
    force: bool = False, final: bool = False, today: dt.date | None = None, progress: Progress | None = None,
) -> SendReport:
    """``remind_not_sat``: the weekly digest (``final``: the final reminder of the day) of an
    open exam to every recipient, or those within ``--unit``'s subtree."""
    today = today or timezone.localdate()
    exam = exam_remindable(exam_id=exam_id, today=today)
    within = within if within is not None else unit_within(unit_code)
    return digest_send(digest=not_sat_digest(exam=exam, today=today, final=final), within=within, dry_run=dry_run,
                       force=force, progress=progress)
