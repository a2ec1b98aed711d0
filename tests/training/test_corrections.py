"""Corrections of training records by hand (training.corrections): edit an event (a new date
moves the attendance to the units of that day), delete one (with attendance: only with a
reason; a liaison only when all who attended are theirs), set one attendance status. Each
writes one audit record and announces the figures on commit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from config.errors import DomainError
from roster.models import ChangeKind, Staff, StaffChange, Unit
from training.attendance import attendance_record
from training.corrections import attendance_status_correct, training_event_correct, training_event_delete
from training.models import Attendance, AttendanceStatus, TrainingEvent
from training.selectors import hours_of_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(db):
    return get_user_model().objects.create_user("office", password="x")


def corrections() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.CORRECTION).order_by("id"))


def hours(staff_id: int) -> Decimal:
    return hours_of_staff(year=2024, staff_ids=[staff_id]).get(staff_id, Decimal(0))


def attend(event: TrainingEvent, *staff_nos: str, status: str = AttendanceStatus.PRESENT) -> None:
    ids = list(Staff.objects.filter(staff_no__in=staff_nos).values_list("id", flat=True))
    attendance_record(event=event, staff_ids=ids, status=status)


def test_an_event_is_edited_and_the_change_is_audited(event, staff, office, django_capture_on_commit_callbacks):
    attend(event, "0001")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        changed = training_event_correct(event=event, user=office, hours="3", title="合同审查实务讲座",
                                         organiser=Unit.objects.get(code="A"), reason="学时填错")
    assert callbacks, "the figures are announced once the change commits"
    stored = TrainingEvent.objects.get(pk=event.pk)
    assert (stored.hours, stored.title, stored.organiser.code) == (Decimal("3.00"), "合同审查实务讲座", "A")
    assert changed.pk == event.pk
    [record] = corrections()
    assert record.target == f"event:{event.pk}"
    assert "学时：2.5 → 3" in record.reason and "主办单位：（空） → " in record.reason and "学时填错" in record.reason


def test_an_edit_that_changes_nothing_writes_no_record(event, office):
    training_event_correct(event=event, user=office, title=event.title, hours=event.hours)
    assert corrections() == []


def test_an_edit_is_checked_like_a_new_event(event, office):
    with pytest.raises(DomainError, match="学时"):
        training_event_correct(event=event, user=office, hours="0")
    other = TrainingEvent.objects.create(title="另一场", kind=event.kind, date=event.date, hours=1)
    with pytest.raises(DomainError, match="已有名为"):
        training_event_correct(event=other, user=office, title=event.title)
    assert corrections() == []


def test_a_new_date_places_attendance_in_the_units_of_that_day(event, staff, office):
    attend(event, "0001")
    person = Staff.objects.get(staff_no="0001")
    # 0001 moved from A to B on 2024-06-01: the event of 2024-05-20 counts them in A, one in
    # July in B
    moved_at = timezone.make_aware(dt.datetime(2024, 6, 1, 9))
    Staff.objects.filter(pk=person.pk).update(unit=Unit.objects.get(code="B"))
    StaffChange.objects.create(staff=person, kind=ChangeKind.MOVED, field="unit", old_value="A 甲局",
                               new_value="B 乙局", changed_at=moved_at)
    Attendance.objects.filter(event=event).update(unit=Unit.objects.get(code="A"))
    training_event_correct(event=event, user=office, date=dt.date(2024, 7, 1))
    assert Attendance.objects.get(event=event).unit.code == "B"
    training_event_correct(event=event, user=office, date=dt.date(2024, 5, 21))
    assert Attendance.objects.get(event=event).unit.code == "A"


def test_an_event_without_attendance_is_deleted_without_a_reason(event, office):
    assert training_event_delete(event=event, user=office) == 0
    assert not TrainingEvent.objects.filter(pk=event.pk).exists()
    assert "删除培训活动" in corrections()[0].reason


def test_deleting_an_event_with_attendance_needs_a_reason(event, staff, office):
    attend(event, "0001", "0002")
    with pytest.raises(DomainError, match="已有 2 条出勤记录：删除须填写原因") as refused:
        training_event_delete(event=event, user=office)
    assert refused.value.code == "conflict" and TrainingEvent.objects.filter(pk=event.pk).exists()
    assert hours(Staff.objects.get(staff_no="0001").pk) == Decimal("2.5")
    assert training_event_delete(event=event, user=office, reason="重复录入") == 2
    assert not Attendance.objects.exists()
    [record] = corrections()
    assert record.rows == 2 and "重复录入" in record.reason


def test_a_liaison_does_not_delete_an_event_others_attended(event, staff, office):
    attend(event, "0001", "0003")  # A and B
    with pytest.raises(DomainError, match="1 条本单位范围以外人员的出勤记录"):
        training_event_delete(event=event, user=office, reason="误建", within=Unit.objects.get(code="A"))
    assert TrainingEvent.objects.filter(pk=event.pk).exists() and corrections() == []


def test_one_attendance_status_is_set_and_the_hours_follow(event, staff, office):
    attend(event, "0001")
    attendance = Attendance.objects.get(event=event)
    person = attendance.staff_id
    assert hours(person) == Decimal("2.5")
    changed = attendance_status_correct(attendance=attendance, status=AttendanceStatus.ABSENT, user=office,
                                        reason="实际未到")
    assert changed.status == AttendanceStatus.ABSENT
    assert hours(person) == Decimal(0)
    [record] = corrections()
    assert record.target == f"event:{event.pk}:attendance:0001" and "出席 → 缺席" in record.reason
    # the same status again: nothing changes, nothing is recorded
    attendance_status_correct(attendance=attendance, status=AttendanceStatus.ABSENT, user=office)
    assert len(corrections()) == 1
    with pytest.raises(DomainError, match="出勤情况“gone”无效"):
        attendance_status_correct(attendance=attendance, status="gone", user=office)
