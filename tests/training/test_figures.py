"""training_stats and hours_below: the selectors and their commands."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from roster.models import Staff
from tests.helpers import run_command
from training.attendance import attendance_record
from training.events import study_hours_requirement_set
from training.models import Attendance, AttendanceSource, StudyHoursRequirement, TrainingEvent
from training.selectors import hours_below, training_stats

pytestmark = pytest.mark.django_db


def ids(*staff_nos: str) -> list[int]:
    return list(Staff.objects.filter(staff_no__in=staff_nos).values_list("id", flat=True))


def make_event(title, kind, day, hours):
    return TrainingEvent.objects.create(title=title, kind=kind, date=day, hours=Decimal(str(hours)))


@pytest.fixture
def year_2024(staff):
    """2024: a 2.5 h lecture (张三, 李四 present; 赵六 late; 王五(A) excused), a 3 h study session
    (张三 present, 孙七 absent), a 16 h online course (张三), an empty court observation;
    and a 2023 lecture that must not count."""
    lecture = make_event("合同起草", "lecture", dt.date(2024, 5, 20), "2.5")
    session = make_event("专题学习", "study_session", dt.date(2024, 6, 1), 3)
    online = make_event("网络课程", "online_course", dt.date(2024, 9, 1), 16)
    make_event("旁听庭审", "court_observation", dt.date(2024, 10, 1), 4)
    old = make_event("去年讲座", "lecture", dt.date(2023, 12, 31), 2)
    attendance_record(event=lecture, staff_ids=ids("0001", "0002"), status="present")
    attendance_record(event=lecture, staff_ids=ids("0005"), status="late")
    attendance_record(event=lecture, staff_ids=ids("0006"), status="excused")
    attendance_record(event=session, staff_ids=ids("0001"), status="present")
    attendance_record(event=session, staff_ids=ids("0007"), status="absent")
    attendance_record(event=online, staff_ids=ids("0001"), status="present")
    attendance_record(event=old, staff_ids=ids("0001", "0002"), status="present")
    return {"lecture": lecture, "session": session, "online": online}


def test_training_stats_counts_events_by_kind_and_present_or_late_records(year_2024):
    stats = training_stats(year=2024)
    assert stats == {
        "events": 4,
        "by_kind": {"court_observation": 1, "lecture": 1, "online_course": 1, "study_session": 1},
        "attendances": 5,  # 3 at the lecture (one late), 1 session, 1 online
        "staff_trained": 3,
        "person_hours": Decimal("2.5") * 3 + 3 + 16,
    }


def test_training_stats_lists_only_kinds_that_had_events(year_2024):
    assert set(training_stats(year=2023)["by_kind"]) == {"lecture"}
    assert training_stats(year=2030) == {
        "events": 0, "by_kind": {}, "attendances": 0, "staff_trained": 0, "person_hours": Decimal("0"),
    }


def test_training_stats_for_a_unit_cover_its_subtree_attendances(year_2024, units):
    town = training_stats(year=2024, unit=units["T"])  # T1 is below T: 赵六, late at the lecture
    assert town == {"events": 1, "by_kind": {"lecture": 1}, "attendances": 1, "staff_trained": 1,
                    "person_hours": Decimal("2.5")}
    district = training_stats(year=2024, unit=units["D"])
    assert district["attendances"] == 5 and district["events"] == 3


def test_unit_figures_of_a_past_year_stay_put_when_people_move(year_2024, units):
    before = training_stats(year=2024, unit=units["A"])
    Staff.objects.filter(staff_no="0001").update(unit=units["B"])
    assert training_stats(year=2024, unit=units["A"]) == before
    assert training_stats(year=2024, unit=units["B"])["attendances"] == 0


def test_training_stats_runs_three_queries(year_2024, units, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        training_stats(year=2024, unit=units["A"])


def test_hours_below_lists_active_staff_under_the_requirement_with_their_hours(year_2024):
    below = {s.staff_no: s.hours for s in hours_below(year=2024)}
    # 张三 has 2.5 + 3 + 16 = 21.5 < 40; 周八 left and is not listed
    assert below == {"0001": Decimal("21.5"), "0002": Decimal("2.5"), "0003": 0, "0004": 0, "0005": Decimal("2.5"),
                     "0006": 0, "0007": 0}


def test_requirement_is_configurable_per_year(year_2024):
    study_hours_requirement_set(year=2024, hours=20)
    assert "0001" not in {s.staff_no for s in hours_below(year=2024)}
    assert StudyHoursRequirement.objects.get(year=2024).hours == 20
    assert len(hours_below(year=2025)) == 7  # default 40 for an unconfigured year


def test_hours_below_for_a_unit_uses_the_current_subtree(year_2024, units):
    assert sorted(s.staff_no for s in hours_below(year=2024, unit=units["T"])) == ["0005"]


def test_hours_below_list_is_one_query(year_2024, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # the requirement, then the list with units joined
        rows = [(s.staff_no, s.unit.code, s.hours) for s in hours_below(year=2024)]
    assert len(rows) == 7


# --- commands -----------------------------------------------------------------------------


def test_training_stats_command_json_has_the_contract_keys(year_2024):
    outcome = run_command("training_stats", 2024, "--json")
    assert outcome.code == 0
    data = outcome.json()
    assert set(data) == {"events", "by_kind", "attendances", "staff_trained", "person_hours"}
    assert data["person_hours"] == 26.5 and data["attendances"] == 5


def test_training_stats_command_with_unit_and_plain_text(year_2024):
    data = run_command("training_stats", 2024, "--unit", "T", "--json").json()
    assert (data["attendances"], data["person_hours"]) == (1, 2.5)
    text = run_command("training_stats", 2024).out
    assert "培训活动 4 场" in text and "5 人次" in text


def test_training_stats_command_refuses_unknown_unit_in_chinese(year_2024):
    outcome = run_command("training_stats", 2024, "--unit", "NOPE")
    assert outcome.code == 1 and "单位代码“NOPE”不存在" in outcome.err


def test_hours_below_command_formats(year_2024, tmp_path):
    table = run_command("hours_below", 2024)
    assert table.code == 0 and "张三" in table.out and "21.5" in table.out and "周八" not in table.out

    data = json.loads(run_command("hours_below", 2024, "--format", "json", "--unit", "A").out)
    assert (data["year"], data["unit"], data["required_hours"], data["count"]) == (2024, "A", 40, 3)
    assert data["staff"][0] == {"staff_no": "0006", "name": "王五", "unit_code": "A", "unit_name": "测试区财政局",
                                "hours": 0, "required_hours": 40, "missing_hours": 40}

    csv_out = run_command("hours_below", 2024, "--format", "csv").out.splitlines()
    assert run_command("hours_below", 2024, "--format", " CSV ").out.splitlines() == csv_out
    assert csv_out[0] == "工号,姓名,单位代码,单位,学时,应修学时,差额" and len(csv_out) == 8

    target = tmp_path / "below.xlsx"
    outcome = run_command("hours_below", 2024, "--format", "xlsx", "-o", target)
    assert outcome.code == 0
    sheet = load_workbook(target).active
    assert [c.value for c in sheet[2]][:2] == ["工号", "姓名"]
    assert sheet.max_row == 2 + 7

    target_csv = tmp_path / "below.csv"
    run_command("hours_below", 2024, "--format", "csv", "-o", target_csv)
    assert target_csv.read_bytes().startswith(b"\xef\xbb\xbf")


def test_hours_below_written_to_a_file_is_an_audited_export(year_2024, units, tmp_path):
    from audit.models import AuditAction, AuditEvent

    run_command("hours_below", 2024, "--format", "table")  # printed, not written: no record
    assert not AuditEvent.objects.exists()
    run_command("hours_below", 2024, "--unit", "A", "--format", "csv", "-o", tmp_path / "a.csv")
    event = AuditEvent.objects.get()
    assert (event.action, event.target, event.rows) == (AuditAction.EXPORT, "training:2024:hours_below:A", 3)
    assert event.username.startswith("命令行:") and "a.csv" in event.reason


def test_hours_below_command_refuses_bad_options(year_2024):
    assert run_command("hours_below", 2024, "--format", "pdf").code == 1
    outcome = run_command("hours_below", 2024, "--format", "xlsx")
    assert outcome.code == 1 and "-o" in outcome.err
    assert "年度" in run_command("hours_below", "twenty").err


def test_manual_list_updates_status_of_people_already_recorded(year_2024):
    lecture = year_2024["lecture"]
    result = attendance_record(event=lecture, staff_ids=ids("0006", "0003"), status="present")
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    assert Attendance.objects.get(event=lecture, staff__staff_no="0006").source == AttendanceSource.MANUAL


def test_manual_list_with_an_unknown_id_changes_nothing(year_2024):
    from config.errors import DomainError

    before = Attendance.objects.count()
    with pytest.raises(DomainError):
        attendance_record(event=year_2024["lecture"], staff_ids=[*ids("0003"), 999999], status="present")
    assert Attendance.objects.count() == before

