"""The hours-below digest of a year: the people below the year's required study hours, per
recipient's subtree. The figures are the training app's (``hours_below``, ``required_hours``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from reports.annual import year_check
from roster.models import Staff
from roster.ordering import unit_order
from roster.selectors import staff_list
from training.selectors import default_required_hours, hours_below

from .digests import Composed, Digest, DigestUnit, digest_rollup, names_line, percent, period_week, unit_nodes
from .outbox import Progress, SendReport, digest_send
from .subjects import unit_within

KIND = "hours_below"


def hours_compose(unit: DigestUnit, *, year: int, required: Decimal) -> Composed:
    figures = unit.figures
    link = f"{settings.SITE_URL}/units/{unit.unit.code}/"
    header = [
        f"### {year} 年度学时未达标提醒",
        f"**单位**：{unit.unit.name}（含下级单位）",
        f"**年度要求**：{required.normalize():f} 学时",
        f"**在册**：{figures.expected} 人，**学时未达标**：{figures.count} 人，**达标率**：{percent(figures.rate)}",
        *names_line("学时未达标人员", unit),
    ]
    items = [f"- {child.name}：{child_figures.count} 人" for child, child_figures in unit.children]
    if items:
        header.append("**下级单位学时未达标人数**：")
    return Composed(
        title=f"【学时提醒】{year} 年度：{unit.unit.name}学时未达标 {figures.count} 人",
        header=header, items=items, footer=[f"[查看单位统计]({link})"],
    )


def hours_digest(*, year: int, today: dt.date) -> Digest:
    """Every unit's count below the requirement and its active staff, rolled up the tree:
    three queries (below per unit, active per unit, the units), one more for the names."""
    below = Staff.objects.filter(pk__in=hours_below(year=year).values("pk"))
    below_by_unit = dict(below.order_by().values("unit_id").annotate(n=Count("id")).values_list("unit_id", "n"))
    active_by_unit = dict(
        staff_list(active=True).order_by().values("unit_id").annotate(n=Count("id")).values_list("unit_id", "n")
    )
    own = {unit_id: (below_by_unit.get(unit_id, 0), active) for unit_id, active in active_by_unit.items()}
    names = below.order_by(*unit_order("unit__"), "staff_no").values_list("unit_id", "name") if settings.REMINDER_INCLUDE_NAMES else ()
    return Digest(
        kind=KIND, subject_key=f"hours:{year}", period=period_week(today),
        figures=digest_rollup(own=own, nodes=unit_nodes()),
        compose=partial(hours_compose, year=year, required=default_required_hours(year=year)),
        names=names, report={"exam_id": None, "year": year},
    )


def remind_hours_below(
    *, year: Any, unit_code: str | None = None, dry_run: bool = False, force: bool = False,
    today: dt.date | None = None, progress: Progress | None = None,
) -> SendReport:
    """``remind_hours_below``: the weekly digest of the people below the year's hours."""
    the_year = year_check(year)
    within = unit_within(unit_code)
    return digest_send(digest=hours_digest(year=the_year, today=today or timezone.localdate()), within=within,
                       dry_run=dry_run, force=force, progress=progress)
