"""Writes of the access app: giving a user their one role."""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from config.errors import DomainError
from roster.models import Staff, Unit

from .models import SCOPED_ROLES, Role, UserRole


def user_role_set(
    *,
    username: str,
    role: str,
    unit_code: str | None = None,
    password: str | None = None,
    rate_limit_exempt: bool = False,
    staff_no: str | None = None,
    email: str | None = None,
) -> tuple[UserRole, bool]:
    """Give a user their one role, creating the user when needed. Returns (role, user created).
    A liaison names their unit (``unit_code``); so may an office (legal_office, hr), which then
    works in that subtree only (a city's or district's office); a staff account names its one person
    (``staff_no``), who must be on the roster and have no other account. ``email`` (where a
    liaison's reminders go) is set when given; "" clears it."""
    if email is not None:
        email = email_check(email)
    username = (username or "").strip()
    if not username:
        raise DomainError("用户名不能为空。")
    if role not in Role.values:
        raise DomainError(f"角色应为 {' / '.join(Role.values)} 之一，而不是“{role}”。")
    unit: Unit | None = None
    if role == Role.LIAISON and not unit_code:
        raise DomainError("单位联络员必须用 --unit 指定负责单位。")
    if role in SCOPED_ROLES and unit_code:
        unit = Unit.objects.filter(code=unit_code.strip().upper()).first() or Unit.objects.filter(
            code=unit_code.strip()
        ).first()
        if unit is None:
            raise DomainError(f"单位代码“{unit_code}”不存在。")
    elif unit_code:
        raise DomainError("只有单位联络员（liaison）、法治办（legal_office）和人事部门（hr）可以用 --unit。")
    person: Staff | None = None
    if role == Role.STAFF:
        staff_no = (staff_no or "").strip()
        if not staff_no:
            raise DomainError("本人账号（staff）必须用 --staff-no 指定人员工号。")
        person = Staff.objects.filter(staff_no=staff_no).first() if "\x00" not in staff_no else None
        if person is None:
            raise DomainError(f"工号“{staff_no}”不存在。")
        if not person.is_active:
            raise DomainError(f"工号“{staff_no}”的人员已离册，不能为其设定本人账号。")
    elif staff_no:
        raise DomainError("只有本人账号（staff）需要 --staff-no。")

    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        created = user is None
        if created:
            user = User(username=username)
        if password is not None:
            try:
                password_validation.validate_password(password, user)
            except ValidationError as exc:
                raise DomainError("密码不符合要求：" + "；".join(exc.messages))
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        if person is not None:
            other = UserRole.objects.filter(staff=person).exclude(user__username=username).select_related("user").first()
            if other is not None:
                raise DomainError(f"工号“{person.staff_no}”的人员已关联账号 {other.user.get_username()}，一人只能有一个本人账号。")
        if email is not None:
            user.email = email
        user.save()
        user_role, _ = UserRole.objects.update_or_create(
            user=user,
            defaults={"role": role, "unit": unit, "staff": person, "rate_limit_exempt": rate_limit_exempt,
                      "updated_at": timezone.now()},
        )
    return user_role, created


def email_check(email: str) -> str:
    """An address as stored ("" clears it); DomainError in Chinese when it is not one."""
    email = (email or "").strip()
    if not email:
        return ""
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise DomainError(f"邮箱地址无效：“{email}”。")
    return email
