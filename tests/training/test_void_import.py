"""Voiding a sign-in sheet import: its attendance records go, those another sheet (not
voided) also supplied stay, and records entered otherwise are never touched."""

from __future__ import annotations

import pytest

from sheets.voiding import import_void
from tests.training.conftest import sheet
from training.attendance import attendance_import, attendance_record
from training.models import Attendance, AttendanceStatus
from training.selectors import training_stats

pytestmark = pytest.mark.django_db


def recorded(event) -> list[str]:
    return sorted(Attendance.objects.filter(event=event).values_list("staff__staff_no", flat=True))


def test_voiding_a_sheet_removes_its_attendances_only(staff, event):
    from roster.models import Staff

    manual = Staff.objects.get(staff_no="0005")
    attendance_record(event=event, staff_ids=[manual.pk], status=AttendanceStatus.PRESENT)
    a = attendance_import(event=event, data=sheet([["张三", "", "0001", "", ""], ["李四", "", "0002", "", ""],
                                                   ["赵六", "", "0005", "", ""]]), file_name="a.csv")
    b = attendance_import(event=event, data=sheet([["李四", "", "0002", "", ""]]), file_name="b.csv")
    assert (a.applied, a.already_recorded, b.applied) == (2, 1, 0)
    dry = import_void(import_id=a.import_id, dry_run=True).as_dict()
    assert dry == {"import_id": a.import_id, "dry_run": True,
                   "removed": {"attempts": 0, "exemptions": 0, "attendances": 1}, "kept": 2}
    assert recorded(event) == ["0001", "0002", "0005"]
    result = import_void(import_id=a.import_id, reason="重复上传")
    assert result.as_dict()["removed"]["attendances"] == 1 and result.kept == 2
    # 0002 was on B's sheet too; 0005 was entered by hand before the sheet
    assert recorded(event) == ["0002", "0005"]
    import_void(import_id=b.import_id)
    assert recorded(event) == ["0005"]
    assert training_stats(year=event.date.year)["attendances"] == 1
