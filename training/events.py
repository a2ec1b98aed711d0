"""Writes of training events: creating, finding, rotating sign-in tokens, and the yearly hours
requirement."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from config.errors import DomainError
from config.events import TRAINING, figures_changed
from config.text import refuse_control_chars
from roster.models import Unit

from .models import (
    Audience,
    StudyHoursRequirement,
    TrainingEvent,
    kind_labels,
    new_signin_token,
)

logger = logging.getLogger(__name__)


def training_event_check(*, title: str, kind: str, hours: Decimal | int | float | str, date: dt.date | None) -> None:
    """The rules an event's own fields must meet, for forms that save events themselves (the
    admin); raises DomainError."""
    training_event_clean(title=title, kind=kind, hours=hours, date=date)


def training_event_clean(
    *, title: str, kind: str, hours: Decimal | int | float | str, date: dt.date | None = None
) -> tuple[str, str, Decimal]:
    if date is not None and not 2000 <= date.year <= 2100:
        # a typo such as 0204 or 9999: no training then, and the year's figures could not list it
        raise DomainError(f"活动日期“{date:%Y-%m-%d}”无效：年份应在 2000 到 2100 之间。")
    title = (title or "").strip()
    if not title:
        raise DomainError("培训活动名称不能为空。")
    if len(title) > 200:
        raise DomainError("培训活动名称不能超过 200 个字符。")
    refuse_control_chars(title, label="培训活动名称")
    kinds = kind_labels(fresh=True)  # the kinds table: a kind added in the admin is valid at once
    if kind not in kinds:
        raise DomainError(f"培训类型“{kind}”无效，应为：{'、'.join(kinds)}。")
    try:
        value = Decimal(str(hours)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(f"学时“{hours}”不是有效的数字。")
    if not value.is_finite() or value <= 0 or value >= 1000:
        raise DomainError(f"学时“{hours}”无效：应为大于 0 的数字（可以是小数）。")
    return title, kind, value


def training_event_create(
    *,
    title: str,
    kind: str,
    date: dt.date,
    hours: Decimal | int | float | str,
    organiser: Unit | None = None,
    speaker: str = "",
    location: str = "",
    audience: str = Audience.DISTRICT,
    audience_units: Iterable[Unit] = (),
    signin_opens_at: dt.datetime | None = None,
    signin_closes_at: dt.datetime | None = None,
    signin_rotates: bool = True,
) -> TrainingEvent:
    title, kind, value = training_event_clean(title=title, kind=kind, hours=hours, date=date)
    refuse_control_chars(speaker, label="主讲人")
    refuse_control_chars(location, label="地点")
    if audience not in Audience.values:
        raise DomainError(f"参加对象“{audience}”无效，应为：{'、'.join(Audience.values)}。")
    if signin_opens_at and signin_closes_at and signin_closes_at <= signin_opens_at:
        raise DomainError("签到截止时间必须晚于签到开始时间。")
    if TrainingEvent.objects.filter(title=title, date=date).exists():
        raise DomainError(f"{date:%Y-%m-%d} 已有名为“{title}”的培训活动。")
    event = TrainingEvent.objects.create(
        title=title, kind=kind, date=date, hours=value, organiser=organiser, speaker=speaker, location=location,
        audience=audience, signin_opens_at=signin_opens_at, signin_closes_at=signin_closes_at,
        signin_rotates=signin_rotates,
    )
    units = list(audience_units)
    if units:
        event.audience_units.set(units)
    return event


def training_event_find_or_create(
    *,
    title: str,
    kind: str,
    date: dt.date,
    hours: Decimal | int | float | str,
    organiser: Unit | None = None,
) -> tuple[TrainingEvent, bool, list[str]]:
    """The event with this title and date, or a new one. An existing event keeps its own kind
    and hours; a difference is returned as a warning, never applied silently."""
    title, kind, value = training_event_clean(title=title, kind=kind, hours=hours, date=date)
    with transaction.atomic():
        event = TrainingEvent.objects.select_for_update().filter(title=title, date=date).first()
        if event is None:
            try:
                with transaction.atomic():
                    created = training_event_create(title=title, kind=kind, date=date, hours=value, organiser=organiser)
                return created, True, []
            except (IntegrityError, DomainError):
                # another import created it a moment ago: use that one
                event = TrainingEvent.objects.select_for_update().get(title=title, date=date)
    warnings = []
    if event.kind != kind:
        warnings.append(f"已有同名同日的培训活动，其类型为“{event.get_kind_display()}”，未按本次指定的类型修改。")
    if event.hours != value:
        warnings.append(f"已有同名同日的培训活动，其学时为 {event.hours}，未按本次指定的学时 {value} 修改。")
    return event, False, warnings


def training_event_rotate_token(*, event: TrainingEvent) -> TrainingEvent:
    """Give the event a new sign-in URL (the old one, and its printed QR codes, stop working)."""
    event.signin_token = new_signin_token()
    event.save(update_fields=["signin_token"])
    return event


def training_events_rotate_tokens(*, event_ids: Iterable[int]) -> int:
    """``training_event_rotate_token`` for many events at once (the admin's action): one bulk
    UPDATE per 500 events. Returns how many events got a new URL."""
    changed = [TrainingEvent(pk=pk, signin_token=new_signin_token()) for pk in set(event_ids)]
    TrainingEvent.objects.bulk_update(changed, ["signin_token"], batch_size=500)
    return len(changed)


def training_event_changed(*, event: TrainingEvent, previous_year: int | None = None) -> None:
    """Announce that an event's figures may have changed (its date, hours or attendance)."""
    figures_changed(kind=TRAINING, year=event.date.year)
    if previous_year is not None and previous_year != event.date.year:
        figures_changed(kind=TRAINING, year=previous_year)


def study_hours_requirement_set(*, year: int, hours: Decimal | int | str, note: str = "") -> StudyHoursRequirement:
    try:
        value = Decimal(str(hours))
    except InvalidOperation:
        raise DomainError(f"学时“{hours}”不是有效的数字。")
    if not value.is_finite() or value < 0:
        raise DomainError("应修学时不能为负数。")
    requirement, _ = StudyHoursRequirement.objects.update_or_create(year=year, defaults={"hours": value, "note": note})
    figures_changed(kind=TRAINING, year=year)
    return requirement
