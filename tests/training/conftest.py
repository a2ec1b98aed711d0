from __future__ import annotations

import datetime as dt

import pytest

from roster.models import Staff
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import Person, csv_bytes, new_id
from training.events import training_event_create
from training.models import TrainingKind

SIGNIN_HEADER = ["序号", "姓名", "单位", "工号", "身份证号", "手机号"]


@pytest.fixture
def staff(units):
    """Named people: two 王五 in unit B (ambiguous by name), a third 王五 in A, a head in S1,
    and 周八 who has left."""
    people = [
        Person("0001", "张三", new_id(), "A", phone="13800000001"),
        Person("0002", "李四", new_id(), "A", phone="13800000002"),
        Person("0003", "王五", new_id(), "B", phone="13800000003"),
        Person("0004", "王五", new_id(), "B", phone="13800000004"),
        Person("0005", "赵六", new_id(), "T1", phone="13800000005"),
        Person("0006", "王五", new_id(), "A", phone="13800000006"),
        Person("0007", "孙七", new_id(), "S1", position="校长", is_head="是", phone="13800000007"),
        Person("0008", "周八", new_id(), "A", phone="13800000008"),
    ]
    result = roster_sync(sync=roster_sync_create(file=csv_bytes(people), file_name="r.csv"))
    assert result.applied
    Staff.objects.filter(staff_no="0008").update(is_active=False)
    return {p.staff_no: p for p in people}


@pytest.fixture
def event(db):
    return training_event_create(
        title="合同起草实务讲座", kind=TrainingKind.LECTURE, date=dt.date(2024, 5, 20), hours="2.5"
    )


def sheet(rows, header=SIGNIN_HEADER) -> bytes:
    """A sign-in sheet: rows of (name, unit, staff_no, id_number, phone), numbered."""
    numbered = [[i, *row] for i, row in enumerate(rows, start=1)] if header[0] == "序号" else rows
    return csv_bytes(numbered, header=header)
