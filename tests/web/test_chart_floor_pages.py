"""When every unit's rates are high, the bar charts of the annual report page and of the
dashboard start their axis below the lowest rate (labelled), so that 83% and 100% bars differ
(issue 20); low rates keep the axis at 0."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from exams.models import Candidate
from reports.snapshots import snapshots_refresh

pytestmark = pytest.mark.django_db


def _widths(body: str) -> list[str]:
    chart = body[body.index('id="chart"'):]  # the bars, in unit order
    return re.findall(r'class="fill(?: pass)?" style="width: ([0-9.]+%)"', chart)


@pytest.fixture
def everyone_sat(district, exam):
    # everybody sat and passed, but one person in A failed: A passes 5 of 6 (83.3%)
    Candidate.objects.filter(exam=exam).update(best_score=90, attempt_count=1, passed=True)
    Candidate.objects.filter(exam=exam, staff__staff_no=district.a[0].staff_no).update(best_score=40, passed=False)
    snapshots_refresh(everything=True)


def test_the_annual_reports_bars_start_at_the_tens_below_the_lowest_rate(personas, everyone_sat):
    body = personas["legal_office"].client().get(f"/reports/annual/?year={timezone.localdate().year}").content.decode()
    assert 'id="chart-floor"' in body and "横轴从 80% 起" in body
    widths = _widths(body)
    # A: 100% sat, 83.3% passed → measured from 80%; B and T: 100% and 100%
    assert widths[:2] == ["100.00%", "16.67%"] and widths[2:6] == ["100.00%"] * 4


def test_the_dashboards_bars_start_at_the_tens_below_the_lowest_rate(personas, everyone_sat):
    body = personas["legal_office"].client().get("/units/D/").content.decode()
    assert "横轴从 80% 起" in body
    assert _widths(body)[:2] == ["100.00%", "16.67%"]


def test_low_rates_keep_the_axis_at_zero(personas, district, exam):
    Candidate.objects.filter(exam=exam, staff__staff_no=district.a[0].staff_no).update(
        best_score=90, attempt_count=1, passed=True)
    snapshots_refresh(everything=True)
    body = personas["legal_office"].client().get(f"/reports/annual/?year={timezone.localdate().year}").content.decode()
    assert 'id="chart"' in body and 'id="chart-floor"' not in body
    assert "16.67%" in _widths(body)  # A: 1 of 6 sat, measured from 0
