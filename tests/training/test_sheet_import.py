from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from config.events import figures_changed_signal
from roster.models import Staff, Unit
from roster.sync import roster_sync, roster_sync_create
from sheets.models import ImportKind, ImportRecord
from sheets.reader import SheetError
from tests.helpers import Person, csv_bytes, xlsx_bytes
from tests.training.conftest import SIGNIN_HEADER, sheet
from training.attendance import attendance_import
from training.models import Attendance, AttendanceSource, AttendanceStatus, TrainingEvent
from training.self_signin import attendance_self_sign_in

pytestmark = pytest.mark.django_db


def run(event, rows, header=SIGNIN_HEADER, name="sign-in.csv"):
    return attendance_import(event=event, data=sheet(rows, header=header), file_name=name)


def recorded(event) -> list[str]:
    return sorted(Attendance.objects.filter(event=event).values_list("staff__staff_no", flat=True))


def kinds(result) -> list[tuple[int, str]]:
    return [(p.row, p.kind) for p in result.errors]


# --- each matching rule ------------------------------------------------------------------


def test_row_is_matched_by_staff_no(staff, event):
    result = run(event, [["张三", "", "0001", "", ""]])
    assert (result.applied, result.errors) == (1, [])
    assert recorded(event) == ["0001"]


def test_row_is_matched_by_id_number(staff, event):
    result = run(event, [["李四", "", "", staff["0002"].id_number, ""]])
    assert result.applied == 1 and recorded(event) == ["0002"]


def test_row_is_matched_by_phone(staff, event):
    result = run(event, [["赵六", "", "", "", "138-0000-0005"]])
    assert result.applied == 1 and recorded(event) == ["0005"]


def test_row_is_matched_by_name_with_unit_code_or_unit_name(staff, event):
    result = run(event, [["张三", "A", "", "", ""], ["赵六", "测试镇综合执法队", "", "", ""]])
    assert result.applied == 2 and recorded(event) == ["0001", "0005"]


def test_a_short_unit_name_is_reported_as_the_unit_with_close_matches(staff, event):
    result = run(event, [["张三", "财政局", "", "", ""], ["李四", "火星局", "", "", ""]])
    first, second = result.errors
    assert (first.row, first.column, first.value, first.kind) == (2, "单位", "财政局", "unmatched")
    assert first.message == "单位名称无法识别：财政局（相近的单位：测试区财政局）"
    assert second.message.startswith("单位名称无法识别：火星局") and "名册中找不到此人" not in second.message


def test_name_and_unit_match_needs_the_unit_not_just_the_name(staff, event):
    # three 王五 in the district, only one of them in A
    result = run(event, [["王五", "A", "", "", ""]])
    assert result.applied == 1 and recorded(event) == ["0006"]


def test_staff_no_wins_over_name_and_unit(staff, event):
    result = run(event, [["王五", "B", "0003", "", ""]])
    assert (result.applied, result.ambiguous) == (1, 0) and recorded(event) == ["0003"]


def test_name_that_disagrees_with_the_staff_no_is_a_conflict_and_not_applied(staff, event):
    result = run(event, [["李四", "", "0001", "", ""]])
    assert result.applied == 0 and result.conflicts == 1
    assert kinds(result) == [(2, "conflict")]
    assert recorded(event) == []


def test_name_that_disagrees_with_the_id_number_is_a_conflict(staff, event):
    result = run(event, [["李四", "", "", staff["0001"].id_number, ""]])
    assert kinds(result) == [(2, "conflict")]
    assert staff["0001"].id_number not in str(result.as_dict())


def test_name_that_disagrees_with_the_phone_is_a_conflict(staff, event):
    result = run(event, [["李四", "", "", "", "13800000001"]])
    assert result.applied == 0 and result.conflicts == 1
    assert kinds(result) == [(2, "conflict")]
    assert "13800000001" not in str(result.as_dict())
    assert recorded(event) == []


def test_id_number_comes_before_phone(staff, event):
    # the phone is 张三's (0001), the ID number and the name are 李四's (0002)
    result = run(event, [["李四", "", "", staff["0002"].id_number, "13800000001"]])
    assert (result.applied, result.errors) == (1, [])
    assert recorded(event) == ["0002"]


def test_phone_comes_before_name_and_unit(staff, event):
    # 王五 of unit B is ambiguous by name and unit; the phone says which one
    result = run(event, [["王五", "B", "", "", "13800000004"]])
    assert (result.applied, result.ambiguous, result.errors) == (1, 0, [])
    assert recorded(event) == ["0004"]


def test_same_name_twice_in_one_unit_is_ambiguous_and_not_guessed(staff, event):
    result = run(event, [["王五", "B", "", "", ""]])
    assert (result.applied, result.ambiguous) == (0, 1)
    problem = result.errors[0]
    assert (problem.row, problem.kind, problem.column, problem.value) == (2, "ambiguous", "姓名", "王五")
    assert "无法确定" in problem.message
    assert recorded(event) == []


def test_nobody_found_is_unmatched(staff, event):
    result = run(event, [["查无此人", "A", "", "", ""], ["某某", "", "9999", "", ""]])
    assert (result.applied, result.unmatched) == (0, 2)
    assert kinds(result) == [(2, "unmatched"), (3, "unmatched")]
    assert result.errors[1].value == "9999" and result.errors[1].column == "工号"


def test_staff_who_left_are_not_matched_by_name_and_unit(staff, event):
    result = run(event, [["周八", "A", "", "", ""]])
    assert (result.applied, result.unmatched) == (0, 1)


def test_unknown_unit_leaves_the_row_unmatched(staff, event):
    result = run(event, [["张三", "不存在的单位", "", "", ""]])
    assert kinds(result) == [(2, "unmatched")]


def test_row_without_any_key_is_invalid(staff, event):
    result = run(event, [["张三", "", "", "", ""]])
    assert (result.applied, result.invalid) == (0, 1)


def test_broken_id_number_is_invalid_and_shown_masked(staff, event):
    result = run(event, [["张三", "", "", "450203199001011230", ""]])
    assert kinds(result) == [(2, "invalid")]
    assert result.errors[0].value == "450203********1230"


# --- duplicates and re-import -------------------------------------------------------------


def test_same_person_twice_on_one_sheet_counts_once(staff, event):
    rows = [["张三", "A", "", "", ""], ["李四", "A", "", "", ""], ["张三", "", "0001", "", ""]]
    result = run(event, rows)
    assert (result.applied, result.duplicates) == (2, 1)
    assert kinds(result) == [(4, "duplicate")]
    assert "第 2 行" in result.errors[0].message
    assert Attendance.objects.filter(event=event).count() == 2


def test_importing_the_same_sheet_again_adds_nothing(staff, event):
    rows = [["张三", "A", "", "", ""], ["李四", "", "0002", "", ""], ["王五", "B", "", "", ""]]
    first = run(event, rows)
    again = run(event, rows)
    assert (first.applied, first.already_recorded) == (2, 0)
    assert (again.applied, again.already_recorded, again.ambiguous) == (0, 2, 1)
    assert Attendance.objects.filter(event=event).count() == 2


def test_reimport_does_not_overwrite_a_qr_sign_in(staff, event):
    Staff.objects.filter(staff_no="0001").update(id_number_masked="450203********1234")
    moment = timezone.make_aware(dt.datetime(2024, 5, 20, 9, 0))
    attendance_self_sign_in(event=event, who="0001", id_last4="1234", now=moment)
    result = run(event, [["张三", "A", "", "", "", ]], header=SIGNIN_HEADER)
    assert (result.applied, result.already_recorded) == (0, 1)
    assert Attendance.objects.get(event=event).source == AttendanceSource.QR


def test_overlapping_second_sheet_adds_only_the_new_people(staff, event):
    run(event, [["张三", "A", "", "", ""]])
    result = run(event, [["张三", "A", "", "", ""], ["赵六", "T1", "", "", ""]])
    assert (result.applied, result.already_recorded) == (1, 1)
    assert recorded(event) == ["0001", "0005"]


# --- status and sign-in time columns ----------------------------------------------------


def test_status_and_sign_in_time_columns_are_read(staff, event):
    header = ["姓名", "单位", "出勤情况", "签到时间"]
    rows = [["张三", "A", "", "8:55"], ["李四", "A", "迟到", "2024-05-20 09:20"], ["赵六", "T1", "请假", ""],
            ["王五", "A", "缺席", ""]]
    result = attendance_import(event=event, data=csv_bytes(rows, header=header), file_name="s.csv")
    assert result.applied == 4
    got = dict(Attendance.objects.filter(event=event).values_list("staff__staff_no", "status"))
    assert got == {"0001": "present", "0002": "late", "0005": "excused", "0006": "absent"}
    first = Attendance.objects.get(event=event, staff__staff_no="0001")
    assert timezone.localtime(first.signed_in_at).strftime("%Y-%m-%d %H:%M") == "2024-05-20 08:55"


def test_unreadable_status_or_time_is_invalid_with_row_and_column(staff, event):
    header = ["姓名", "单位", "出勤情况", "签到时间"]
    rows = [["张三", "A", "也许", ""], ["李四", "A", "", "下午"]]
    result = attendance_import(event=event, data=csv_bytes(rows, header=header), file_name="s.csv")
    assert result.applied == 0 and result.invalid == 2
    assert [(p.row, p.column, p.value) for p in result.errors] == [(2, "出勤情况", "也许"), (3, "签到时间", "下午")]



def test_sign_in_time_in_an_impossible_year_is_invalid_and_the_rest_is_recorded(staff, event):
    header = ["姓名", "单位", "签到时间"]
    rows = [["张三", "A", "0001-01-01 00:00"], ["李四", "A", "9:05"]]
    result = attendance_import(event=event, data=csv_bytes(rows, header=header), file_name="s.csv")
    assert (result.applied, result.invalid) == (1, 1)
    assert [(p.row, p.column, p.value, p.kind) for p in result.errors] == [(2, "签到时间", "0001-01-01 00:00", "invalid")]


# --- files --------------------------------------------------------------------------------


def test_xlsx_sheet_with_title_rows_is_read(staff, event):
    data = xlsx_bytes(
        [[1, "张三", "A", "0001"], [2, "赵六", "T1", ""]],
        header=["序号", "姓名", "单位", "工号"],
        title_rows=["合同起草实务讲座签到表", "2024年5月20日"],
    )
    result = attendance_import(event=event, data=data, file_name="s.xlsx")
    assert result.applied == 2


def test_unreadable_file_raises_records_the_refusal_and_records_nothing(staff, event):
    with pytest.raises(SheetError):
        attendance_import(event=event, data=b"\x00\x01garbage" * 20, file_name="s.csv")
    record = ImportRecord.objects.get(kind=ImportKind.ATTENDANCE)
    assert (record.status, record.target_id, record.source_file.name) == ("refused", event.pk, "")
    assert Attendance.objects.count() == 0


def test_sheet_with_names_only_cannot_be_matched_and_is_refused(staff, event):
    with pytest.raises(SheetError) as caught:
        attendance_import(event=event, data=csv_bytes([["张三"]], header=["姓名"]), file_name="s.csv")
    assert "单位" in caught.value.message


def test_import_is_recorded_with_counts_problems_and_without_the_file(staff, event):
    result = run(event, [["张三", "A", "", "", ""], ["王五", "B", "", "", ""]])
    record = ImportRecord.objects.get(pk=result.import_id)
    assert (record.kind, record.target_id, record.status, record.applied) == ("attendance", event.pk, "succeeded", True)
    assert record.counts["applied"] == 1 and record.counts["ambiguous"] == 1
    assert record.problems[0]["kind"] == "ambiguous"
    assert record.source_file.name == ""
    assert Attendance.objects.get(event=event).import_record_id == record.pk


# --- the unit frozen at the event's date ------------------------------------------------


def test_unit_is_the_one_on_the_event_date_when_the_person_moved_later(staff, event):
    people = [Person(no, p.name, p.id_number, p.unit, phone=p.phone) for no, p in staff.items() if no != "0008"]
    people[0].unit = "B"  # 张三 moves from A to B after the event
    roster_sync(sync=roster_sync_create(file=csv_bytes(people), file_name="r2.csv", mode="partial"))
    assert Staff.objects.get(staff_no="0001").unit.code == "B"
    run(event, [["张三", "", "0001", "", ""]])
    assert Attendance.objects.get(event=event).unit.code == "A"

    today = timezone.localdate()
    later = TrainingEvent.objects.create(title="later", kind="lecture", date=today, hours=1)
    run(later, [["张三", "", "0001", "", ""]])
    assert Attendance.objects.get(event=later).unit.code == "B"


def test_figures_changed_fires_once_with_the_event_year(staff, event, django_capture_on_commit_callbacks):
    heard = []

    def listener(sender, **kwargs):
        heard.append((kwargs["kind"], kwargs["year"]))

    figures_changed_signal.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run(event, [["张三", "A", "", "", ""]])
        with django_capture_on_commit_callbacks(execute=True):
            run(event, [["张三", "A", "", "", ""]])  # adds nothing: no announcement
    finally:
        figures_changed_signal.disconnect(listener)
    assert heard == [("training", 2024)]


def test_queries_do_not_grow_with_the_rows(staff, event, django_assert_max_num_queries):
    units = {u.code: u for u in Unit.objects.all()}
    assert units
    rows = [["张三", "A", "", "", ""], ["李四", "", "0002", "", ""], ["赵六", "", "", "", "13800000005"]] * 100
    with django_assert_max_num_queries(30):
        result = run(event, rows)
    assert (result.applied, result.duplicates) == (3, 297)


def test_status_words_cover_the_usual_marks(staff, event):
    header = ["姓名", "单位", "出勤情况"]
    rows = [["张三", "A", "√"], ["李四", "A", "病假"], ["赵六", "T1", "未到"]]
    attendance_import(event=event, data=csv_bytes(rows, header=header), file_name="s.csv")
    got = dict(Attendance.objects.filter(event=event).values_list("staff__staff_no", "status"))
    assert got == {"0001": AttendanceStatus.PRESENT, "0002": AttendanceStatus.EXCUSED, "0005": AttendanceStatus.ABSENT}
