"""The rate charts start their axis below the lowest rate when every rate is high, so that
93% and 100% bars look different; the cut is labelled."""

from __future__ import annotations

from reports.render import axis_floor
from web.templatetags.web_extras import bar_width


def test_high_rates_start_the_axis_at_the_tens_below_the_lowest():
    assert axis_floor([0.93, 1.0, 0.97]) == 0.9
    assert axis_floor([0.915, 1.0]) == 0.8  # 91.5% keeps a margin below its bar
    assert axis_floor([0.5, 0.8]) == 0.0  # low rates keep the axis at 0
    assert axis_floor([None, 0.99]) == 0.9 and axis_floor([]) == 0.0 and axis_floor([None]) == 0.0


def test_bar_widths_are_measured_from_the_axis_start():
    assert bar_width(0.95, 0.9) == "50.00%"
    assert bar_width(0.93, 0.9) != bar_width(1.0, 0.9) == "100.00%"
    assert bar_width(0.85, 0.9) == "0.00%" and bar_width(None, 0.9) == "0%"
    assert bar_width(0.8734) == "87.34%"
