"""Writes of the yearly study-hours targets per 人员类别 (``TrainingTarget``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction

from config.errors import DomainError
from config.events import TRAINING, figures_changed
from config.text import refuse_control_chars

from .models import TrainingTarget


def _year(year: int | str) -> int:
    try:
        value = int(str(year).strip())
    except ValueError:
        raise DomainError(f"年度“{year}”无效，应为 2000 到 2100 之间的整数。")
    if not 2000 <= value <= 2100:
        raise DomainError(f"年度“{year}”无效，应为 2000 到 2100 之间的整数。")
    return value


def _hours(hours: Decimal | int | float | str) -> Decimal:
    try:
        value = Decimal(str(hours).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(f"应修学时“{hours}”不是有效的数字。")
    if not value.is_finite() or value < 0 or value >= 10000:
        raise DomainError(f"应修学时“{hours}”无效：应为 0 到 9999 之间的数字。")
    return value


def training_target_set(*, year: int | str, category: str | None, hours: Decimal | int | float | str) -> TrainingTarget:
    """Set what the year requires of one 人员类别 (``category``; empty or None: the default row
    for everyone else). Creates or updates the one row of (year, category)."""
    the_year, value = _year(year), _hours(hours)
    category = (category or "").strip() or None
    if category is not None:
        if len(category) > 100:
            raise DomainError("人员类别不能超过 100 个字符。")
        refuse_control_chars(category, label="人员类别")
    with transaction.atomic():
        # category=None is IS NULL: the default row
        target = TrainingTarget.objects.select_for_update().filter(year=the_year, category=category).first()
        if target is None:
            target = TrainingTarget.objects.create(year=the_year, category=category, hours=value)
        elif target.hours != value:
            target.hours = value
            target.save(update_fields=["hours"])
    figures_changed(kind=TRAINING, year=the_year)
    return target


def training_target_delete(*, target: TrainingTarget) -> None:
    year = target.year
    target.delete()
    figures_changed(kind=TRAINING, year=year)
