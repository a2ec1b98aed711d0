"""Corrections of training records made by hand, on the pages or through the API: editing or
deleting an event, and setting one attendance status.

Every correction is one transaction that also writes its audit record (``audit_record``,
action ``correction``). Figures are announced with ``figures_changed`` (through
``training_event_changed``) and refreshed once the change commits. Who may correct which
event or attendance is decided by the caller through ``access.scoping``; ``within`` carries a
liaison's subtree where a change would reach beyond what they see."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from audit.models import AuditAction
from audit.services import audit_record, audit_text_check
from config.errors import DomainError
from config.text import refuse_control_chars
from roster.models import Unit

from .attendance import attendances_set_status
from .events import training_event_changed, training_event_clean
from .models import Attendance, AttendanceStatus, TrainingEvent, kind_label
from .selectors import staff_units_on

MAX_REASON = 200
KEEP: Any = object()  # an argument left out: the event keeps its own value


def _clean_reason(reason: str | None, *, required: bool = False, what: str = "原因") -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise DomainError(f"请填写{what}。")
    if len(reason) > MAX_REASON:
        raise DomainError(f"{what}过长（最多 {MAX_REASON} 字）。")
    audit_text_check(reason)
    return reason


def _suffix(reason: str) -> str:
    return f"。原因：{reason}" if reason else ""


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, Unit):
        return value.name
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def training_event_correct(
    *,
    event: TrainingEvent,
    user: Any,
    title: str | None = None,
    kind: str | None = None,
    date: dt.date | None = None,
    hours: Decimal | int | str | None = None,
    organiser: Unit | None = KEEP,
    speaker: str | None = None,
    location: str | None = None,
    signin_rotates: bool | None = None,
    reason: str = "",
    address: str | None = None,
) -> TrainingEvent:
    """Change an event's own fields (an argument left out keeps its value; ``organiser=None``
    makes it the district's own). A new date moves the event's attendance to the units the
    people belonged to on that day, and the figures of both years are refreshed. Audited when
    anything changed."""
    reason = _clean_reason(reason)
    new_title, new_kind, new_hours = training_event_clean(
        title=event.title if title is None else title, kind=event.kind if kind is None else kind,
        hours=event.hours if hours is None else hours, date=date or event.date,
    )
    wanted: dict[str, Any] = {
        "title": new_title, "kind": new_kind, "date": date or event.date, "hours": new_hours,
        "speaker": event.speaker if speaker is None else speaker.strip(),
        "location": event.location if location is None else location.strip(),
        "signin_rotates": event.signin_rotates if signin_rotates is None else bool(signin_rotates),
    }
    refuse_control_chars(wanted["speaker"], label="主讲人")
    refuse_control_chars(wanted["location"], label="地点")
    for field, limit in (("speaker", 200), ("location", 200)):
        if len(wanted[field]) > limit:
            raise DomainError(f"{TrainingEvent._meta.get_field(field).verbose_name}过长（最多 {limit} 字）。")
    labels = {"title": "名称", "kind": "类型", "date": "日期", "hours": "学时", "organiser": "主办单位",
              "speaker": "主讲人", "location": "地点", "signin_rotates": "签到二维码定时更换"}
    with transaction.atomic():
        locked = TrainingEvent.objects.select_for_update(of=("self",)).select_related("organiser").get(pk=event.pk)
        if organiser is not KEEP:
            wanted["organiser"] = organiser
        changes = []
        for field, new in wanted.items():
            old = getattr(locked, field)
            if field == "organiser" and (old.pk if old else None) == (new.pk if new else None):
                continue
            if field != "organiser" and old == new:
                continue
            if field == "kind":
                changes.append(f"{labels[field]}：{locked.get_kind_display()} → {kind_label(new)}")
            else:
                changes.append(f"{labels[field]}：{_shown(old)} → {_shown(new)}")
        if not changes:
            return locked
        if TrainingEvent.objects.filter(title=wanted["title"], date=wanted["date"]).exclude(pk=locked.pk).exists():
            raise DomainError(f"{wanted['date']:%Y-%m-%d} 已有名为“{wanted['title']}”的培训活动。", code="conflict")
        previous_year = locked.date.year
        moved = wanted["date"] != locked.date
        for field, new in wanted.items():
            setattr(locked, field, new)
        locked.save()
        if moved:
            # each person's unit is the one they belonged to on the event's (new) day
            rows = list(Attendance.objects.filter(event=locked).values_list("pk", "staff_id", "staff__unit_id", "unit_id"))
            units = staff_units_on(staff=[(staff_id, unit_id) for _, staff_id, unit_id, _ in rows], day=locked.date)
            Attendance.objects.bulk_update(
                [Attendance(pk=pk, unit_id=units[staff_id]) for pk, staff_id, _, old in rows if units[staff_id] != old],
                ["unit"], batch_size=1000,
            )
        training_event_changed(event=locked, previous_year=previous_year)
        audit_record(
            user=user, action=AuditAction.CORRECTION, target=f"event:{locked.pk}",
            reason="修改培训活动：" + "；".join(changes) + _suffix(reason), address=address,
        )
    return locked


def training_event_delete(
    *, event: TrainingEvent, user: Any, reason: str = "", within: Unit | None = None, address: str | None = None
) -> int:
    """Delete an event with its attendance. One that has attendance needs a reason (the page
    asks for it on a confirmation page). ``within`` (a liaison): refused when people outside
    that subtree attended, whose records the liaison does not see. Returns the attendance
    records removed."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        locked = TrainingEvent.objects.select_for_update().filter(pk=event.pk).first()
        if locked is None:
            raise DomainError("培训活动不存在。", code="not_found")
        attendance = Attendance.objects.filter(event=locked)
        count = attendance.count()
        if count and not reason:
            raise DomainError(f"该活动已有 {count} 条出勤记录：删除须填写原因。", code="conflict")
        if within is not None:
            outside = attendance.exclude(unit__path__startswith=within.path).count()
            if outside:
                raise DomainError(
                    f"该活动有 {outside} 条本单位范围以外人员的出勤记录，不能由您删除；请联系法治办。", code="conflict"
                )
        audit_record(
            user=user, action=AuditAction.CORRECTION, target=f"event:{locked.pk}",
            reason=f"删除培训活动：{locked.title}（{locked.date:%Y-%m-%d}，{_shown(locked.hours)} 学时），出勤记录 {count} 条"
                   + _suffix(reason),
            rows=count, address=address,
        )
        locked.delete()  # its attendance goes with it (CASCADE); the instance keeps its date
        training_event_changed(event=locked)
    return count


def attendance_status_correct(
    *, attendance: Attendance, status: str, user: Any, reason: str = "", address: str | None = None
) -> Attendance:
    """Give one attendance record another status (出席、迟到、请假、缺席)."""
    reason = _clean_reason(reason)
    if status not in AttendanceStatus.values:
        raise DomainError(f"出勤情况“{status}”无效，应为：{'、'.join(AttendanceStatus.values)}。")
    with transaction.atomic():
        current = Attendance.objects.select_related("staff").get(pk=attendance.pk)
        if current.status == status:
            return current
        old = current.get_status_display()
        attendances_set_status(attendances=Attendance.objects.filter(pk=current.pk), status=status)
        current.refresh_from_db()
        audit_record(
            user=user, action=AuditAction.CORRECTION,
            target=f"event:{current.event_id}:attendance:{current.staff.staff_no}",
            reason=f"修改出勤情况：{current.staff.name}，{old} → {current.get_status_display()}" + _suffix(reason),
            rows=1, address=address,
        )
    return current
