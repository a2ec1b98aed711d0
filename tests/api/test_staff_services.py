"""roster.staff.staff_create / staff_update called directly (the API, web pages and admin
all use them)."""

from __future__ import annotations

import pytest

from config.errors import DomainError
from roster.models import ChangeKind, Staff, StaffChange
from roster.staff import staff_create, staff_update
from tests.helpers import new_id

pytestmark = pytest.mark.django_db


def test_staff_create_derives_gender_and_seals_the_id_number(units):
    number = new_id()
    member = staff_create(staff_no="S1", name=" 王五 ", id_number=number.lower(), unit=units["A"], gender="")
    member.refresh_from_db()
    assert member.name == "王五"
    assert member.gender == ("男" if int(number[16]) % 2 else "女")
    assert number not in (member.id_number_cipher, member.id_number_hash)
    assert member.reveal_id_number() == number.upper()
    assert member.id_number_masked == number[:6] + "********" + number[-4:]


def test_staff_create_reports_every_problem_at_once_and_writes_nothing(units):
    units["B"].is_active = False
    units["B"].save()
    with pytest.raises(DomainError) as caught:
        staff_create(staff_no="", name="", id_number="123", unit=units["B"], phone="abc", gender="x")
    columns = {p.column for p in caught.value.problems}
    assert columns == {"工号", "姓名", "身份证号", "单位", "手机号", "性别"}
    assert not Staff.objects.exists() and not StaffChange.objects.exists()


def test_staff_update_refuses_unknown_fields(units):
    member = staff_create(staff_no="S2", name="甲", id_number=new_id(), unit=units["A"])
    with pytest.raises(DomainError, match="staff_no"):
        staff_update(staff=member, changes={"staff_no": "X"})


def test_staff_update_with_no_real_change_writes_no_history(units):
    number = new_id()
    member = staff_create(staff_no="S3", name="乙", id_number=number, unit=units["A"], position="科员")
    staff_update(staff=member, changes={"name": "乙", "id_number": number, "unit": units["A"], "position": "科员",
                                        "is_active": True})
    assert list(StaffChange.objects.values_list("kind", flat=True)) == [ChangeKind.CREATED]


def test_staff_update_gender_words_and_head_flag_history(units):
    member = staff_create(staff_no="S4", name="丙", id_number=new_id(), unit=units["A"])
    staff_update(staff=member, changes={"gender": "female", "is_head": True})
    member.refresh_from_db()
    assert member.gender == "女" and member.is_head
    head = StaffChange.objects.get(field="is_head")
    assert (head.old_value, head.new_value) == ("否", "是")


def test_revealing_an_id_number_writes_its_audit_record_and_needs_a_reason(personas, units):
    from audit.models import AuditAction, AuditEvent
    from roster.staff import staff_id_number_reveal

    number = new_id()
    member = staff_create(staff_no="S9", name="赵六", id_number=number, unit=units["A"])
    hr = personas["hr"].user
    with pytest.raises(DomainError):
        staff_id_number_reveal(user=hr, staff=member, reason="  ")
    assert not AuditEvent.objects.exists()
    assert staff_id_number_reveal(user=hr, staff=member, reason=" 核对 ", address="10.0.0.1") == number
    event = AuditEvent.objects.get()
    assert (event.action, event.target, event.reason, event.user) == (AuditAction.REVEAL_ID_NUMBER, "staff:S9", "核对", hr)
    assert number not in event.target + event.reason
