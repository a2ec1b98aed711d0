"""SCIM's writes. Every one goes through ``roster.staff`` (the roster lock, the validation in
Chinese, sealed ID numbers, history rows with source ``scim``, the open exams refreshed on
commit), behind the mass-deactivation guard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.errors import Busy, DomainError
from roster.locks import roster_lock
from roster.models import ChangeKind, ChangeSource, Staff, StaffChange, Unit
from roster.staff import staff_create, staff_update

from .errors import ScimError, invalid_value
from .mapping import UserFields, user_fields, user_resource
from .models import DeactivationAllowance
from .patch import apply as patch_apply
from .schemas import USER_SCHEMAS

WINDOW = dt.timedelta(hours=1)
# the fields a User body gives in full (a PUT clears the ones it leaves out)
_REPLACED = ("name", "position", "phone", "category", "is_head", "enforcement_cert", "external_id")


def _domain_error(exc: DomainError) -> ScimError:
    if isinstance(exc, Busy):
        error = ScimError(503, exc.message)
        error.retry_after = exc.retry_after
        return error
    details = [f"{p.column}：{p.message}" if p.column else p.message for p in exc.problems]
    if any(p.message == "工号已存在。" for p in exc.problems):
        return ScimError(409, "；".join([exc.message, *details]), "uniqueness")
    return invalid_value("；".join([exc.message, *details]) if details else exc.message)


def _unit(code: str) -> Unit:
    unit = Unit.objects.filter(code=code).first() if "\x00" not in code else None
    if unit is None:
        raise invalid_value(f"单位代码“{code}”（department）不存在。")
    return unit


# --- the mass-deactivation guard -------------------------------------------------------------
def deactivation_guard_state(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """How the guard stands: SCIM's deactivations counted in the rolling hour, the active
    staff, the limit, and the allowance in force (None when none)."""
    now = now or timezone.now()
    allowance = DeactivationAllowance.objects.order_by("-until").first()
    since = now - WINDOW
    if allowance is not None and allowance.until > since:
        since = min(allowance.until, now)
    recent = StaffChange.objects.filter(
        source=ChangeSource.SCIM, kind=ChangeKind.DEACTIVATED, changed_at__gt=since
    ).count()
    active = Staff.objects.filter(is_active=True).count()
    return {
        "recent": recent,
        "active": active,
        "ratio": settings.ROSTER_MASS_DEACTIVATION_RATIO,
        # the most deactivations the hour may hold (the guard's limit, floored; 1e-9 absorbs
        # float error such as 0.29 * 100 = 28.999999999999996)
        "limit": int(settings.ROSTER_MASS_DEACTIVATION_RATIO * (active + recent) + 1e-9),
        "allowed_until": allowance.until if allowance is not None and allowance.until > now else None,
    }


def _guard(now: dt.datetime) -> None:
    """409 when one more deactivation would take SCIM's deactivations of the rolling hour past
    ``ROSTER_MASS_DEACTIVATION_RATIO`` of the staff who were active (those still active and
    those it deactivated), unless an hr user allowed them. Called under the roster lock."""
    state = deactivation_guard_state(now=now)
    if state["allowed_until"] is not None:
        return
    if state["recent"] + 1 > state["limit"]:
        raise ScimError(
            409,
            f"停用被拒绝：一小时内已通过 SCIM 停用 {state['recent']} 人，再停用将超过在册人员的 "
            f"{state['ratio']:.0%}（大批停用保护）。如确需停用，请由人事部门运行 "
            "python manage.py scim_allow_deactivations，或在“SCIM 大批停用保护”页面（/roster/scim/）点击“允许 SCIM 大批停用”。",
        )


def scim_deactivations_allow(*, user: Any = None, username: str = "", minutes: int | None = None) -> DeactivationAllowance:
    """An hr user lets SCIM deactivate past the guard for ``minutes`` (default
    ``SCIM_DEACTIVATION_ALLOWANCE_MINUTES``)."""
    minutes = settings.SCIM_DEACTIVATION_ALLOWANCE_MINUTES if minutes is None else minutes
    if minutes <= 0:
        raise DomainError("许可时长应为正数（分钟）。")
    now = timezone.now()
    name = user.get_username() if getattr(user, "pk", None) else username
    return DeactivationAllowance.objects.create(
        allowed_by=user if getattr(user, "pk", None) else None, username=name[:150], allowed_at=now,
        until=now + dt.timedelta(minutes=minutes),
    )


# --- the writes ------------------------------------------------------------------------------
def _changes(staff: Staff, fields: UserFields, *, replace: bool) -> dict[str, Any]:
    values = fields.values
    if values["staff_no"] != staff.staff_no:
        raise ScimError(400, "工号（userName）不能修改。", "mutability")
    changes: dict[str, Any] = {}
    for name in _REPLACED:
        if replace or name in values:
            changes[name] = values[name]
    if "id_number" in values:
        changes["id_number"] = values["id_number"]
    if fields.department is not None:
        changes["unit"] = _unit(fields.department)
    if "is_active" in values:
        changes["is_active"] = values["is_active"]
    return changes


def _update(staff: Staff, changes: dict[str, Any], *, undelete: bool = False) -> Staff:
    now = timezone.now()
    try:
        with transaction.atomic():
            roster_lock()
            current = Staff.objects.get(pk=staff.pk)
            if changes.get("is_active") is False and current.is_active:
                _guard(now)
            staff = staff_update(staff=current, changes=changes, source=ChangeSource.SCIM)
            if undelete and staff.scim_deleted:
                Staff.objects.filter(pk=staff.pk).update(scim_deleted=False)
                staff.scim_deleted = False
    except DomainError as exc:
        raise _domain_error(exc)
    return Staff.objects.select_related("unit").get(pk=staff.pk)


def scim_user_create(*, body: Any) -> Staff:
    """POST /Users: a new person, or the same person again when the 工号 is on the roster but
    no longer active (deleted or deactivated): reactivated with the body's values."""
    fields = user_fields(body, previous=None)
    values = fields.values
    existing = Staff.objects.filter(staff_no=values["staff_no"]).first()
    if existing is not None:
        if existing.is_active:
            raise ScimError(409, f"工号“{values['staff_no']}”（userName）已存在。", "uniqueness")
        changes = _changes(existing, fields, replace=True)
        changes.setdefault("is_active", True)
        return _update(existing, changes, undelete=True)
    if fields.department is None:
        raise invalid_value("新增人员须给出单位代码（enterprise 扩展的 department）。")
    if "id_number" not in values:
        raise invalid_value("新增人员须给出身份证号（urn:legaltrack:params:scim:schemas:extension:staff:2.0:User 的 idNumber）。")
    unit = _unit(fields.department)
    with transaction.atomic():  # created inactive: both or neither (the guard may refuse)
        try:
            staff = staff_create(
                staff_no=values["staff_no"], name=values["name"], id_number=values["id_number"], unit=unit,
                position=values["position"], category=values["category"], is_head=values["is_head"],
                enforcement_cert=values["enforcement_cert"], phone=values["phone"],
                external_id=values["external_id"], source=ChangeSource.SCIM,
            )
        except DomainError as exc:
            raise _domain_error(exc)
        if values.get("is_active") is False:
            staff = _update(staff, {"is_active": False})
    return Staff.objects.select_related("unit").get(pk=staff.pk)


def scim_user_replace(*, staff: Staff, body: Any) -> Staff:
    """PUT /Users/{id}: the whole resource; what it leaves out is cleared (the ID number, the
    unit and ``active`` are kept when absent)."""
    return _update(staff, _changes(staff, user_fields(body, previous=staff), replace=True))


def scim_user_patch(*, staff: Staff, body: Any, base: str) -> Staff:
    """PATCH /Users/{id}: the operations applied to the resource, then mapped like a PUT."""
    patched = patch_apply(user_resource(staff, base=base), body, urns=USER_SCHEMAS)
    return _update(staff, _changes(staff, user_fields(patched, previous=staff), replace=True))


def scim_user_delete(*, staff: Staff) -> None:
    """DELETE /Users/{id}: deactivated, never deleted; SCIM answers 404 for it afterwards."""
    now = timezone.now()
    try:
        with transaction.atomic():
            roster_lock()
            current = Staff.objects.get(pk=staff.pk)
            if current.is_active:
                _guard(now)
                staff_update(staff=current, changes={"is_active": False}, source=ChangeSource.SCIM)
            Staff.objects.filter(pk=staff.pk).update(scim_deleted=True)
    except DomainError as exc:
        raise _domain_error(exc)
