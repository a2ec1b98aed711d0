"""Creating and editing an exam."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from config.errors import DomainError
from config.events import EXAM, figures_changed
from config.text import refuse_control_chars
from roster.history import joined_by_sql
from roster.models import Unit

from .enrolment import candidates_refresh_scores, enrol_audience, roster_mark
from .makeup import makeup_audience_sync, makeup_main_check
from .models import DEFAULT_AUDIENCE, Attempt, Audience, EnrolledVia, Exam, ExamKind

logger = logging.getLogger(__name__)



def _decimal(value: Any, label: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise DomainError(f"{label}应为数字，而不是“{value}”。")
    if not number.is_finite():
        raise DomainError(f"{label}应为数字，而不是“{value}”。")
    return number


@dataclass(frozen=True)
class ExamSpec:
    """Checked values for a new or changed exam."""

    name: str
    year: int
    kind: str
    audience: str
    pass_mark: Decimal
    max_score: Decimal
    opens_on: dt.date
    closes_on: dt.date


def exam_validate(
    *,
    name: str,
    year: int,
    kind: str,
    audience: str | None = None,
    pass_mark: Decimal | int | str = Decimal("60"),
    max_score: Decimal | int | str = Decimal("100"),
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
) -> ExamSpec:
    """Check an exam's values; raise DomainError with a Chinese message naming the problem.
    Missing dates default to the whole of ``year``."""
    name = (name or "").strip()
    if not name:
        raise DomainError("考试名称不能为空。")
    if len(name) > 200:
        raise DomainError("考试名称过长（最多 200 字）。")
    refuse_control_chars(name, label="考试名称")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise DomainError(f"年度应在 2000 到 2100 之间，而不是“{year}”。")
    if kind not in ExamKind.values:
        raise DomainError(f"考试类型应为 {'、'.join(ExamKind.values)} 之一，而不是“{kind}”。")
    audience = audience or DEFAULT_AUDIENCE[ExamKind(kind)]
    if audience not in Audience.values:
        raise DomainError(f"应考范围应为 {'、'.join(Audience.values)} 之一，而不是“{audience}”。")
    max_score = _decimal(max_score, "满分")
    pass_mark = _decimal(pass_mark, "合格分数线")
    if max_score <= 0 or max_score >= Decimal("10000"):
        raise DomainError("满分应大于 0 且小于 10000。")
    if not Decimal(0) <= pass_mark <= max_score:
        raise DomainError(f"合格分数线应在 0 到满分（{max_score.normalize():f}）之间。")
    # a date left out defaults to the year's first or last day, but never so that it falls on
    # the wrong side of the date that was given (an exam of 2026 may close in January 2027, or
    # be given only a closing date in an earlier year)
    if opens_on is None:
        opens_on = min(dt.date(year, 1, 1), closes_on) if closes_on else dt.date(year, 1, 1)
    closes_on = closes_on or max(dt.date(year, 12, 31), opens_on)
    if opens_on > closes_on:
        raise DomainError(f"开考日期（{opens_on}）不能晚于截止日期（{closes_on}）。")
    return ExamSpec(name, year, kind, audience, pass_mark, max_score, opens_on, closes_on)


def exam_create(
    *,
    name: str,
    year: int,
    kind: str,
    audience: str | None = None,
    pass_mark: Decimal | int | str = Decimal("60"),
    max_score: Decimal | int | str = Decimal("100"),
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
    today: dt.date | None = None,
    owner: Unit | None = None,
    makeup_of: Exam | int | str | None = None,
) -> Exam:
    """Create an exam and enrol its audience in one statement.

    The audience is everybody on the roster when the window closes: every active staff
    member in it, and, for an exam back-filled after its window, those who left after
    ``closes_on``; never those who joined after it (``roster.history``: a person joins on the
    day a sync or a hand entry first created them; the people of the first sync of an empty
    roster count as there before any exam).

    ``owner``: the unit of the scoped office creating it (``Scope.write_root``); the audience
    then lies within that unit's subtree (a make-up's too).

    ``makeup_of``: the main exam (or its id) this exam is the make-up (补考) of: same kind and
    year, checked by ``exams.makeup.makeup_main_check``. Its audience is then the main exam's
    expected candidates who have not passed it (exams.makeup), and its ``audience`` the main
    exam's."""
    spec = exam_validate(
        name=name, year=year, kind=kind, audience=audience, pass_mark=pass_mark, max_score=max_score,
        opens_on=opens_on, closes_on=closes_on,
    )
    today = today or timezone.localdate()
    with transaction.atomic():
        main = makeup_main_check(makeup_of=makeup_of, kind=spec.kind, year=spec.year)
        if main is not None:
            # held until this commits, so that two make-ups of one exam cannot both be created
            main = Exam.objects.select_for_update().get(pk=main.pk)
            # checked again under the lock: another make-up may have been created meanwhile
            makeup_main_check(makeup_of=main, kind=spec.kind, year=spec.year)
        existing = Exam.objects.filter(year=spec.year, kind=spec.kind, name=spec.name).values_list("pk", flat=True).first()
        if existing:
            raise DomainError(f"已有同名考试（编号 {existing}），未重复创建。", code="conflict")
        exam = Exam.objects.create(
            name=spec.name, year=spec.year, kind=spec.kind,
            audience=main.audience if main is not None else spec.audience, pass_mark=spec.pass_mark,
            max_score=spec.max_score, opens_on=spec.opens_on, closes_on=spec.closes_on, roster_mark=roster_mark(),
            owner=owner,
            makeup_of=main,
        )
        if main is not None:
            # the main exam's candidates, who were enrolled by the rules below
            makeup_audience_sync(makeup_ids=[exam.pk], today=today, fresh=True)
        else:
            joined_sql, joined_params = joined_by_sql(day_sql="e.closes_on")
            enrol_audience(
                exam_ids=[exam.pk],
                staff_sql=f"(s.is_active = %s OR s.left_on > e.closes_on) AND {joined_sql}",
                staff_params=[True, *joined_params],
                via=EnrolledVia.AUDIENCE,
                today=today,
                fresh=True,
            )
        figures_changed(kind=EXAM, exam_id=exam.pk, year=exam.year)
    return exam


def exam_update(*, exam: Exam, spec: ExamSpec) -> Exam:
    """Change an exam's name, scoring or window. Its kind, year and audience stay as created.
    A new pass mark re-grades every candidate."""
    if (spec.kind, spec.year, spec.audience) != (exam.kind, exam.year, exam.audience):
        raise DomainError("考试创建后不能修改类型、年度和应考范围；如需变更请新建考试。")
    with transaction.atomic():
        locked = Exam.objects.select_for_update().get(pk=exam.pk)
        top = Attempt.objects.filter(exam=locked).aggregate(m=Max("score"))["m"]
        if top is not None and Decimal(top) > spec.max_score:
            raise DomainError(f"已有成绩（最高 {Decimal(top).normalize():f} 分）超过新的满分，不能这样修改。")
        regrade = locked.pass_mark != spec.pass_mark
        for name in ("name", "pass_mark", "max_score", "opens_on", "closes_on"):
            setattr(locked, name, getattr(spec, name))
        # a moved window may bring the joiner and leaver rules back into force
        locked.roster_mark = None
        locked.save()
        if regrade:
            candidates_refresh_scores(exam=locked)
        figures_changed(kind=EXAM, exam_id=locked.pk, year=locked.year)
    return locked
