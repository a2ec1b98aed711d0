"""Cell values of a results export: scores (or an absence) and hand-in times."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone

ABSENT_WORDS = frozenset({"缺考", "缺席", "absent"})
_TWO_PLACES = Decimal("0.01")
_SCORE_SUFFIX = re.compile(r"\s*分$")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# the common shapes, parsed without strptime (a results file has hundreds of thousands)
_FAST_TIME = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y年%m月%d日",
)


class CellError(ValueError):
    """A cell that cannot be used; the message is in Chinese."""


def is_absent(text: str) -> bool:
    return text.strip().lower() in ABSENT_WORDS


def parse_score(text: str, *, max_score: Decimal) -> Decimal:
    """A score between 0 and ``max_score``, to two decimal places."""
    cleaned = _SCORE_SUFFIX.sub("", text.strip())
    if not cleaned:
        raise CellError("成绩为空；未参加考试的请填写“缺考”。")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise CellError("成绩不是数字。")
    if not value.is_finite():
        raise CellError("成绩不是数字。")
    out_of_range = CellError(f"成绩超出范围：应在 0 到 {max_score.normalize():f} 之间。")
    # the range first: a huge value such as 1e30 cannot be rounded to two places at all
    if value < 0 or value > max_score:
        raise out_of_range
    value = value.quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)
    if value > max_score:
        raise out_of_range
    return value


def parse_time(text: str, *, numeric: bool = False) -> dt.datetime | None:
    """A hand-in time in Asia/Shanghai; None for an empty cell. Excel date cells arrive as
    "YYYY-MM-DD HH:MM:SS" strings; a bare Excel serial number is accepted too."""
    cleaned = " ".join(text.split())
    if not cleaned:
        return None
    moment: dt.datetime | None = None
    fast = _FAST_TIME.match(cleaned)
    if fast:
        try:
            moment = dt.datetime(*(int(part) for part in fast.groups(default="0")))
        except ValueError:
            raise CellError("交卷时间不是有效的日期时间。")
    for pattern in () if moment else _TIME_FORMATS:
        try:
            moment = dt.datetime.strptime(cleaned, pattern)
            break
        except ValueError:
            continue
    if moment is None and numeric:
        try:
            serial = float(cleaned)
        except ValueError:
            serial = -1.0
        if 1 <= serial < 2958466:
            moment = _EXCEL_EPOCH + dt.timedelta(days=serial)
            moment = moment.replace(microsecond=0)
    if moment is None:
        raise CellError("交卷时间无法识别：应为“年-月-日 时:分:秒”，例如 2024-06-01 09:30:00。")
    if not 2000 <= moment.year <= 2100:
        raise CellError("交卷时间的年份不合理。")
    # Asia/Shanghai keeps no daylight saving: attaching the zone is exact
    return moment.replace(tzinfo=timezone.get_default_timezone())
