"""One staff member at a time (the API, the pages, the admin). Same rules as a roster sync:
history rows for every change, ID numbers sealed, serialised with syncs by the roster lock."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record, audit_text_check
from config.errors import DomainError, Problem
from config.events import ROSTER, figures_changed
from config.text import CONTROL_CHARS, control_char, control_message

from .locks import roster_lock
from .models import Staff, Unit

logger = logging.getLogger(__name__)


def staff_set_id_number(*, staff: Staff, id_number: str) -> None:
    from . import idnumbers

    value = idnumbers.normalise(id_number)
    reason = idnumbers.problem(value)
    if reason:
        raise DomainError(reason)
    staff.set_id_number(value)


STAFF_LABELS = {
    "staff_no": "工号",
    "name": "姓名",
    "gender": "性别",
    "id_number": "身份证号",
    "unit": "单位",
    "position": "职务",
    "category": "人员类别",
    "is_head": "是否正职",
    "enforcement_cert": "执法证号",
    "phone": "手机号",
    "is_active": "在册",
    "external_id": "外部标识",
}
STAFF_EDITABLE = tuple(f for f in STAFF_LABELS if f != "staff_no")
_TEXT_LIMITS = {"staff_no": 64, "name": 100, "position": 200, "category": 100, "enforcement_cert": 64, "phone": 32,
                "external_id": 255}


def _staff_text_problems(field_name: str, value: str) -> list[Problem]:
    from .roster_rows import _PHONE, GENDER_WORDS

    label = STAFF_LABELS[field_name]
    if field_name in ("staff_no", "name") and not value:
        return [Problem(None, label, "", f"{label}为空。")]
    if char := control_char(value):
        return [Problem(None, label, "" if field_name == "phone" else CONTROL_CHARS.sub("�", value)[:40],
                        control_message(char, column=label))]
    if len(value) > _TEXT_LIMITS.get(field_name, 10_000):
        return [Problem(None, label, None, f"{label}超过 {_TEXT_LIMITS[field_name]} 个字符。")]
    if field_name == "phone" and value and not _PHONE.match(value):
        from . import idnumbers

        return [Problem(None, label, idnumbers.mask_phone(value), "手机号格式不正确。")]
    if field_name == "gender" and value and value.lower() not in GENDER_WORDS:
        return [Problem(None, label, value, "性别应为“男”或“女”。")]
    return []


def _staff_id_number(value: str, *, owner_pk: int | None) -> tuple[str, list[Problem]]:
    """The normalised number, or the problems with it (invalid, or held by someone else)."""
    from . import idnumbers

    value = idnumbers.normalise(value or "")
    reason = idnumbers.problem(value)
    if reason:
        return "", [Problem(None, STAFF_LABELS["id_number"], idnumbers.mask(value), reason)]
    # every hash key: during a rotation a row may still carry the older digest
    holder = Staff.objects.filter(id_number_hash__in=idnumbers.digests_all(value)).exclude(pk=owner_pk).first()
    if holder is not None:
        return "", [
            Problem(
                None,
                STAFF_LABELS["id_number"],
                idnumbers.mask(value),
                f"该身份证号已属于工号 {holder.staff_no} 的人员（{'在册' if holder.is_active else '已离册'}）。",
            )
        ]
    return value, []


def _unit_problems(unit: Unit) -> list[Problem]:
    if not unit.is_active:
        return [Problem(None, STAFF_LABELS["unit"], unit.code, f"单位“{unit.name}”已停用。")]
    return []


def staff_create(
    *,
    staff_no: str,
    name: str,
    id_number: str,
    unit: Unit,
    gender: str = "",
    position: str = "",
    category: str = "",
    is_head: bool = False,
    enforcement_cert: str = "",
    phone: str = "",
    external_id: str = "",
    source: str = "",
) -> Staff:
    """Add one staff member, with a "created" history row (``source``: where the change came
    from, a ``ChangeSource``). All or nothing."""
    from . import idnumbers
    from .models import ChangeKind, StaffChange
    from .roster_rows import GENDER_WORDS

    texts = {
        "staff_no": staff_no.strip(), "name": name.strip(), "gender": gender.strip(), "position": position.strip(),
        "category": category.strip(), "enforcement_cert": enforcement_cert.strip(), "phone": phone.strip(),
        "external_id": external_id.strip(),
    }
    problems: list[Problem] = []
    for field_name, value in texts.items():
        problems += _staff_text_problems(field_name, value)
    problems += _unit_problems(unit)
    now = timezone.now()
    try:
        with transaction.atomic():
            roster_lock()
            if texts["staff_no"] and Staff.objects.filter(staff_no=texts["staff_no"]).exists():
                problems.append(Problem(None, STAFF_LABELS["staff_no"], texts["staff_no"], "工号已存在。"))
            value, id_problems = _staff_id_number(id_number, owner_pk=None)
            problems += id_problems
            if problems:
                raise DomainError("人员未能添加：请改正以下问题。", problems)
            staff = Staff(
                staff_no=texts["staff_no"],
                name=texts["name"],
                gender=GENDER_WORDS.get(texts["gender"].lower(), "") if texts["gender"] else idnumbers.gender_of(value),
                unit=unit,
                position=texts["position"],
                category=texts["category"],
                is_head=is_head,
                enforcement_cert=texts["enforcement_cert"],
                phone=texts["phone"],
                external_id=texts["external_id"],
                is_active=True,
                joined_on=timezone.localdate(now),
                created_at=now,
                updated_at=now,
            )
            staff.set_id_number(value)
            staff.save()
            StaffChange.objects.create(staff=staff, kind=ChangeKind.CREATED, changed_at=now, source=source)
            figures_changed(kind=ROSTER)
    except IntegrityError:
        raise DomainError("人员未能添加：工号或身份证号与其他人员冲突。")
    return staff


def staff_update(*, staff: Staff, changes: dict[str, Any], source: str = "") -> Staff:
    """Change some fields of one staff member (``unit`` is a Unit, ``id_number`` the plain
    number, ``is_active`` a bool), writing one history row per changed field (``source``: a
    ``ChangeSource``). All or nothing."""
    from . import idnumbers
    from .models import ChangeKind, StaffChange
    from .roster_rows import GENDER_WORDS

    unknown = sorted(set(changes) - set(STAFF_EDITABLE))
    if unknown:
        raise DomainError(f"不能修改这些字段：{', '.join(unknown)}。")
    now = timezone.now()
    problems: list[Problem] = []
    history: list[StaffChange] = []

    def record(kind: str, field_name: str, old: str, new: str) -> None:
        history.append(StaffChange(staff=staff, kind=kind, field=field_name, old_value=old, new_value=new, changed_at=now,
                                   source=source))

    try:
        with transaction.atomic():
            roster_lock()
            staff = Staff.objects.select_for_update().get(pk=staff.pk)
            for field_name, new in changes.items():
                if field_name == "id_number":
                    value, id_problems = _staff_id_number(new, owner_pk=staff.pk)
                    problems += id_problems
                    if not value:
                        continue
                    if staff.id_number_hash not in idnumbers.digests_all(value):
                        old_masked = staff.id_number_masked
                        staff.set_id_number(value)
                        record(ChangeKind.UPDATED, "id_number", old_masked, staff.id_number_masked)
                elif field_name == "unit":
                    if new.pk == staff.unit_id:
                        continue
                    problems += _unit_problems(new)
                    old_unit = Unit.objects.get(pk=staff.unit_id)
                    record(ChangeKind.MOVED, "unit", f"{old_unit.code} {old_unit.name}", f"{new.code} {new.name}")
                    staff.unit = new
                elif field_name == "is_active":
                    new = bool(new)
                    if new == staff.is_active:
                        continue
                    if new:
                        record(ChangeKind.REACTIVATED, "is_active", "否", "是")
                        staff.left_on = None
                    else:
                        record(ChangeKind.DEACTIVATED, "is_active", "是", "否")
                        staff.left_on = timezone.localdate(now)
                    staff.is_active = new
                elif field_name == "is_head":
                    new = bool(new)
                    if new != staff.is_head:
                        record(ChangeKind.UPDATED, "is_head", "是" if staff.is_head else "否", "是" if new else "否")
                        staff.is_head = new
                else:
                    value = str(new or "").strip()
                    if field_name == "gender" and value:
                        problems += _staff_text_problems(field_name, value)
                        value = GENDER_WORDS.get(value.lower(), value)
                    else:
                        problems += _staff_text_problems(field_name, value)
                    old = getattr(staff, field_name)
                    if value != old:
                        # as a roster sync records it
                        record(ChangeKind.UPDATED, field_name, old, value)
                        setattr(staff, field_name, value)
            if problems:
                raise DomainError("人员未能修改：请改正以下问题。", problems)
            if history:
                staff.updated_at = now
                staff.save()
                StaffChange.objects.bulk_create(history)
                figures_changed(kind=ROSTER)
    except IntegrityError:
        raise DomainError("人员未能修改：身份证号与其他人员冲突。")
    return staff


def staff_id_number_reveal(*, user: Any, staff: Staff, reason: str, address: str | None = None) -> str:
    """The full ID number of one staff member, for a caller the scope lets reveal it; the
    audit record is written first, in the same transaction, so no number is shown unrecorded."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("查看完整身份证号必须说明理由（reason）。")
    audit_text_check(reason)  # before anything: an ID number in the reason is refused, nothing stored
    with transaction.atomic():
        audit_record(user=user, action=AuditAction.REVEAL_ID_NUMBER, target=f"staff:{staff.staff_no}", reason=reason,
                     rows=1, address=address)
        return staff.reveal_id_number()
