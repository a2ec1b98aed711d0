from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

KIND_LABELS = {
    "unmatched": _("名册中无此人"),
    "conflict": _("信息冲突"),
    "invalid": _("无效"),
    "ambiguous": _("无法确定是谁"),
    "duplicate": _("重复"),
}


@register.filter
def kind_label(kind: str | None) -> str:
    return KIND_LABELS.get(kind or "", kind or "")


@register.filter
def percent(rate: float | None, digits: int = 1) -> str:
    """0.8734 -> "87.3%"; None (nobody expected / nobody sat) -> "—"."""
    if rate is None or isinstance(rate, str):
        return "—"
    return f"{float(rate) * 100:.{digits}f}%"


@register.filter
def bar_width(rate: float | None, floor: float = 0.0) -> str:
    """A rate as a CSS width on an axis that starts at ``floor``: 0.8734 -> "87.34%" from 0;
    0.95 -> "50.00%" from 0.9."""
    if rate is None or isinstance(rate, str):
        return "0%"
    floor = float(floor or 0)
    share = (float(rate) - floor) / (1.0 - floor) if floor < 1 else 0.0
    return f"{max(0.0, min(1.0, share)) * 100:.2f}%"


@register.filter
def axis_floor(rows: Any) -> float:
    """Where the bars of these rows start (``reports.render.axis_floor``)."""
    from reports.render import axis_floor as floor_of

    return floor_of(r.get(k) for r in rows for k in ("participation_rate", "pass_rate"))


@register.filter
def number(value: Any, digits: int = 1) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, (float, Decimal)):
        text = f"{value:.{digits}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


@register.filter
def indent(depth: int | None) -> str:
    """Full-width spaces that show a unit's depth in a <select>."""
    return "　" * max(int(depth or 0), 0)
