"""A small district whose figures are checked by hand.

Units (three levels): D (root) > A, B (departments), T (town) > T1, E (education) > S1.

Staff at first (11): A: 0001 (head), 0002, 0003, 0004, 0005; B: 0101; T: 0201 (in the town
itself); T1: 0211, 0212; S1: 0301, 0302.

This year's law exam (open, pass mark 60): 0003 exempt; results 0001 80, 0002 70, 0005 90,
0101 65, 0201 100, 0211 50 then 75 (a retake), 0301 40, 0302 88; 0004 and 0212 never sit.

Training this year (requirement 5 hours): lecture L1 (2 h): 0001, 0002 present, 0101 late,
0201 absent, 0302 excused; court observation C1 (3 h): 0001 (a head), 0201. Then a roster sync
moves 0002 from A to B and drops 0004 (left without sitting) and 0005 (left after sitting).
Then lecture L2 (1.5 h): 0002 (now in B) and 0101. So 0002 has attendance in two units.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from exams.enrolment import exams_refresh_open
from exams.models import Exam
from roster.models import Staff, Unit
from tests.exams.conftest import exemption_row, import_exemptions, import_results, make_exam, result_row, results_file
from tests.exams.conftest import sync as roster_sync_people
from tests.helpers import Person, new_id
from training.attendance import attendance_record
from training.events import study_hours_requirement_set, training_event_create
from training.models import AttendanceStatus, TrainingEvent, TrainingKind


def hand_people() -> list[Person]:
    return [
        Person("0001", "甲一", new_id(), "A", position="局长", is_head="是"),
        Person("0002", "甲二", new_id(), "A"),
        Person("0003", "甲三", new_id(), "A"),
        Person("0004", "甲四", new_id(), "A"),
        Person("0005", "甲五", new_id(), "A"),
        Person("0101", "乙一", new_id(), "B"),
        Person("0201", "丙一", new_id(), "T"),
        Person("0211", "丁一", new_id(), "T1"),
        Person("0212", "丁二", new_id(), "T1"),
        Person("0301", "戊一", new_id(), "S1"),
        Person("0302", "戊二", new_id(), "S1"),
    ]


@dataclass
class District:
    units: dict[str, Unit]
    people: dict[str, Person]
    exam: Exam
    year: int
    events: dict[str, TrainingEvent]

    def staff_id(self, staff_no: str) -> int:
        return Staff.objects.get(staff_no=staff_no).pk


def attend(event: TrainingEvent, staff_nos: list[str], status: str = AttendanceStatus.PRESENT) -> None:
    ids = list(Staff.objects.filter(staff_no__in=staff_nos).values_list("id", flat=True))
    attendance_record(event=event, staff_ids=ids, status=status)


@pytest.fixture
def district(units) -> District:
    people = hand_people()
    by_no = {p.staff_no: p for p in people}
    roster_sync_people(people)
    exam = make_exam(name="学法用法考试")
    import_exemptions(exam, [exemption_row(by_no["0003"])])
    scores = [("0001", 80), ("0002", 70), ("0005", 90), ("0101", 65), ("0201", 100), ("0211", 50), ("0301", 40),
              ("0302", 88)]
    rows = [result_row(by_no[no], score, f"{timezone.localdate():%Y-%m-%d} 09:0{i}") for i, (no, score) in enumerate(scores)]
    rows.append(result_row(by_no["0211"], 75, f"{timezone.localdate():%Y-%m-%d} 10:00"))
    outcome = import_results(exam, results_file(rows))
    assert outcome.applied == 9, outcome.message

    today = timezone.localdate()
    study_hours_requirement_set(year=today.year, hours=Decimal("5"))
    l1 = training_event_create(title="讲座一", kind=TrainingKind.LECTURE, date=today, hours="2")
    attend(l1, ["0001", "0002"])
    attend(l1, ["0101"], AttendanceStatus.LATE)
    attend(l1, ["0201"], AttendanceStatus.ABSENT)
    attend(l1, ["0302"], AttendanceStatus.EXCUSED)
    c1 = training_event_create(title="旁听庭审", kind=TrainingKind.COURT_OBSERVATION, date=today, hours="3")
    attend(c1, ["0001", "0201"])

    by_no["0002"].unit = "B"
    roster_sync_people([p for p in people if p.staff_no not in ("0004", "0005")], allow_mass_deactivation=True)
    exams_refresh_open(today=today)
    l2 = training_event_create(title="讲座二", kind=TrainingKind.LECTURE, date=today, hours="1.5")
    attend(l2, ["0002", "0101"])
    exam.refresh_from_db()
    return District(units=units, people=by_no, exam=exam, year=today.year, events={"L1": l1, "C1": c1, "L2": l2})


def today() -> dt.date:
    return timezone.localdate()
