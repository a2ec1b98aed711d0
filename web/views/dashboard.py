"""The unit dashboard: participation and pass rate of the open exam per sub-unit (table and
bar chart), the year's training figures, and when they were computed, all read from the
reports app's snapshots. A liaison sees their subtree; others pick any unit."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET

from access import scoping
from access.scoping import Scope
from training.selectors import default_required_hours, training_targets

from ..selectors import dashboard_exam, default_unit, picker_units, unit_dashboard, visible_exams
from .base import page, render_page

TREND_WIDTH, TREND_HEIGHT = 300, 60


@page(scoping.STATS_READ)
@require_GET
def dashboard_start(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    """A liaison's own unit; for the others the unit picked (``?unit=``), else the district."""
    code = request.GET.get("unit", "")
    unit = scope.resolve_unit(code) if code else default_unit(scope)
    if unit is None:
        return render_page(request, scope, "web/no_role.html", status=404)
    query = f"?exam={request.GET['exam']}" if request.GET.get("exam", "").isdigit() else ""
    return redirect(f"/units/{unit.code}/{query}")


def trend_points(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The participation rate over time as an SVG polyline: the day's last snapshot per day."""
    by_day: dict[Any, dict[str, Any]] = {}
    for row in rows:
        if row.get("participation_rate") is not None:
            by_day[timezone.localdate(row["computed_at"])] = row
    days = sorted(by_day)
    if len(days) < 2:
        return None
    first, last = days[0], days[-1]
    span = max((last - first).days, 1)
    points = []
    for day in days:
        x = (day - first).days / span * TREND_WIDTH
        y = TREND_HEIGHT - by_day[day]["participation_rate"] * TREND_HEIGHT
        points.append(f"{x:.1f},{y:.1f}")
    return {
        "points": " ".join(points),
        "first": first,
        "last": last,
        "first_rate": by_day[first]["participation_rate"],
        "last_rate": by_day[last]["participation_rate"],
        "width": TREND_WIDTH,
        "height": TREND_HEIGHT,
    }


def _targets(year: int) -> dict[str, Any]:
    """The year's required hours: the default and the targets per 人员类别 (one query, two
    when the year has no default row)."""
    targets = list(training_targets(year=year))
    default = next((t.hours for t in targets if t.category is None), None)
    return {
        "required_hours": default if default is not None else default_required_hours(year=year),
        "category_targets": [t for t in targets if t.category is not None],
    }


@page(scoping.STATS_READ)
@require_GET
def dashboard_page(request: HttpRequest, code: str, *, scope: Scope) -> HttpResponse:
    unit = scope.resolve_unit(code)  # another subtree's unit: 404
    exam = dashboard_exam(scope=scope, exam_id=request.GET.get("exam"))
    year = timezone.localdate().year
    board = unit_dashboard(unit=unit, exam=exam, year=year)
    context = {
        "unit": unit,
        "exam": exam,
        "year": year,
        "board": board,
        "trend": trend_points(board.trend),
        **_targets(year),
        "exams": list(visible_exams(scope).order_by("-year", "-opens_on", "-id")[:20]),
        "units": picker_units(scope) if scope.everywhere else None,
        "is_own_unit": scope.unit is not None and scope.unit.pk == unit.pk,
    }
    return render_page(request, scope, "web/dashboard.html", context, section="dashboard")
