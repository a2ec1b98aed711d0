"""Two districts whose learning records are checked by hand.

``district`` (from tests/reports/conftest.py): this year, with a retake (0211: 50 then 75), an
exemption (0003, 长期病假), a mover (0002, A to B between two lectures) and two leavers (0004
left without sitting, 0005 after sitting). See that module for every figure.

``last_year``: a year that has ended, read back from the roster history.

- The first sync of the empty roster creates A: 1001, 1002, 1003, 1004 and B: 1101 (they count
  as present from before any year, although created today).
- Last year's exam (closed; pass mark 60): 1001 55 then 78 (a retake: 78 counts), 1002 90,
  1101 exempt (病假), 1003 and 1004 never sit.
- Lecture E1 (last year, 10 March, 2 h): 1001, 1002, 1003 present, 1004 excused.
- 15 June last year: 1002 moves from A to B, 1003 leaves the roster; 1201 joins B (joined 1 May
  last year by a later sync); 1202 joins B this year.
- Lecture E2 (last year, 20 September, 3 h): 1001, 1002 (now in B), 1201, 1004 present.
- This year: 1004 leaves the roster; lecture E3 (today, 1 h): 1001.

At the end of last year: A held 1001 and 1004; B held 1002, 1101 and 1201.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from exams.models import Exam
from roster.models import ChangeKind, Staff, StaffChange
from tests.exams.conftest import exemption_row, import_exemptions, import_results, make_exam, result_row, results_file
from tests.exams.conftest import sync as roster_sync_people
from tests.helpers import Person, new_id
from tests.reports.conftest import District, attend, district  # noqa: F401  (the fixture)
from training.events import training_event_create
from training.models import AttendanceStatus, TrainingEvent, TrainingKind


@dataclass
class LastYear:
    year: int
    people: dict[str, Person]
    exam: Exam
    events: dict[str, TrainingEvent]


def _mid_june(year: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, 6, 15, 12, 0))


@pytest.fixture
def last_year(units) -> LastYear:
    year = timezone.localdate().year - 1
    people = {p.staff_no: p for p in [
        Person("1001", "庚一", new_id(), "A"), Person("1002", "庚二", new_id(), "A"),
        Person("1003", "庚三", new_id(), "A"), Person("1004", "庚四", new_id(), "A"),
        Person("1101", "辛一", new_id(), "B"),
    ]}
    roster_sync_people(people.values())
    today = timezone.localdate()
    exam = make_exam(name="去年学法用法考试", year=year, opens=(dt.date(year, 11, 1) - today).days,
                     closes=(dt.date(year, 11, 30) - today).days)
    import_exemptions(exam, [exemption_row(people["1101"], "病假")])
    outcome = import_results(exam, results_file([
        result_row(people["1001"], 55), result_row(people["1001"], 78), result_row(people["1002"], 90),
    ]))
    assert outcome.applied == 3, outcome.message

    e1 = training_event_create(title="去年讲座一", kind=TrainingKind.LECTURE, date=dt.date(year, 3, 10), hours="2")
    attend(e1, ["1001", "1002", "1003"])
    attend(e1, ["1004"], AttendanceStatus.EXCUSED)

    people["1002"].unit = "B"
    people["1201"] = Person("1201", "辛二", new_id(), "B")
    people["1202"] = Person("1202", "辛三", new_id(), "B")
    roster_sync_people([p for no, p in people.items() if no != "1003"], allow_mass_deactivation=True)
    # the move and the leaving happened in June last year; 1201 joined in May
    StaffChange.objects.filter(staff__staff_no__in=["1002", "1003"],
                               kind__in=[ChangeKind.MOVED, ChangeKind.DEACTIVATED]).update(changed_at=_mid_june(year))
    Staff.objects.filter(staff_no="1003").update(left_on=dt.date(year, 6, 15))
    Staff.objects.filter(staff_no="1201").update(joined_on=dt.date(year, 5, 1))

    e2 = training_event_create(title="去年讲座二", kind=TrainingKind.LECTURE, date=dt.date(year, 9, 20), hours="3")
    attend(e2, ["1001", "1002", "1201", "1004"])

    roster_sync_people([p for no, p in people.items() if no not in ("1003", "1004")], allow_mass_deactivation=True)
    e3 = training_event_create(title="今年讲座", kind=TrainingKind.LECTURE, date=today, hours="1")
    attend(e3, ["1001"])
    exam.refresh_from_db()
    return LastYear(year=year, people=people, exam=exam, events={"E1": e1, "E2": e2, "E3": e3})
