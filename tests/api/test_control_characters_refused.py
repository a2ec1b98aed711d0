"""Control characters (C0, C1) in free text are refused from every source, with a Chinese
message naming the row and the column: roster files (CSV and XLSX), the units file, exam
results, exemptions, sign-in sheets, the API, the web forms and the admin (model validators).
A CSV ID number that Excel turned into a number gets the "format the column as text" hint."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from exams.creation import exam_create
from exams.imports import exam_import_create, exam_import_run
from exams.models import Candidate, Exam
from roster import idnumbers
from roster.models import Staff, Unit
from roster.sync import roster_sync, roster_sync_create
from roster.units import unit_import
from sheets.models import ImportKind
from tests.api.conftest import EXEMPTION_HEADER, RESULT_HEADER
from tests.helpers import Person, csv_bytes, new_id, xlsx_bytes
from training.attendance import attendance_import
from training.events import training_event_create
from training.models import Attendance, TrainingEvent, TrainingKind

pytestmark = pytest.mark.django_db

BELL = "\u0007"


def sync(data: bytes, name: str = "roster.csv"):
    return roster_sync(sync=roster_sync_create(file=data, file_name=name))


def open_exam() -> Exam:
    today = timezone.localdate()
    return exam_create(name="学法用法考试", year=today.year, kind="annual_law",
                       opens_on=today - dt.timedelta(days=5), closes_on=today + dt.timedelta(days=5))


def run_import(exam: Exam, kind: str, data: bytes):
    return exam_import_run(record=exam_import_create(exam=exam, kind=kind, file=data, file_name="f.csv"))


def test_roster_csv_with_a_bell_in_a_name_names_the_row_and_column_and_rejects_the_row(units):
    people = [Person("0001", "张三", new_id(), "A"), Person("0002", f"李{BELL}四", new_id(), "A")]
    result = sync(csv_bytes(people))
    problems = [e for e in result.errors if e["row"] == 3]
    assert problems and problems[0]["column"] == "姓名"
    assert "第 3 行" in problems[0]["message"] and "“姓名”列" in problems[0]["message"]
    assert "控制字符" in problems[0]["message"] and "U+0007" in problems[0]["message"]
    assert BELL not in problems[0]["value"]
    assert not Staff.objects.filter(name__contains=BELL).exists()


def test_roster_xlsx_with_a_c1_character_in_a_position_is_refused(units):
    people = [Person("0001", "张三", new_id(), "A", position="科\u0085员")]
    result = sync(xlsx_bytes(people), name="roster.xlsx")
    assert any(e["column"] == "职务" and e["row"] == 2 and "U+0085" in e["message"] for e in result.errors)
    assert not Staff.objects.filter(position__contains="\u0085").exists()


def test_units_file_with_a_control_character_applies_nothing(units):
    data = csv_bytes([["Z1", f"新单位{BELL}", "D"]], header=["代码", "名称", "上级代码"])
    result = unit_import(data=data, filename="units.csv")
    assert not result.applied
    assert any(p.row == 2 and p.column == "名称" and "控制字符" in p.message for p in result.errors)
    assert not Unit.objects.filter(code="Z1").exists()


def test_results_and_exemptions_rows_with_control_characters_are_invalid(district):
    exam = open_exam()
    a = district.a
    results = run_import(exam, ImportKind.EXAM_RESULTS, csv_bytes(
        [[a[0].name, a[0].staff_no, "", "某单位", 80, ""], [f"{a[1].name}{BELL}", a[1].staff_no, "", "某单位", 70, ""]],
        header=RESULT_HEADER))
    assert results.applied == 1 and results.invalid == 1
    assert any(e["row"] == 3 and e["column"] == "姓名" and "控制字符" in e["message"] for e in results.errors)
    exempt = run_import(exam, ImportKind.EXAM_EXEMPTIONS, csv_bytes(
        [[a[2].staff_no, "", a[2].name, f"病假{BELL}"]], header=EXEMPTION_HEADER))
    assert exempt.applied == 0
    assert any(e["column"] == "免考原因" and "第 2 行" in e["message"] for e in exempt.errors)
    assert not Candidate.objects.filter(exempt_reason__contains=BELL).exists()


def test_sign_in_sheet_row_with_a_control_character_is_not_recorded(district):
    event = training_event_create(title="讲座", kind=TrainingKind.LECTURE, date=timezone.localdate(), hours="2")
    a = district.a
    data = csv_bytes([[a[0].name, "A", a[0].staff_no], [f"{a[1].name}\u009b", "A", a[1].staff_no]],
                     header=["姓名", "单位", "工号"])
    result = attendance_import(event=event, data=data, file_name="signin.csv")
    assert Attendance.objects.filter(event=event).count() == 1
    assert result.invalid == 1
    assert any(p.row == 3 and p.column == "姓名" and "U+009B" in p.message for p in result.errors)


def test_api_refuses_control_characters_in_staff_exam_and_event_text(personas, district):
    hr, legal = personas["hr"].client(), personas["legal_office"].client()
    staff = hr.post("/api/v1/staff/", {"staff_no": "N1", "name": f"新{BELL}同事", "id_number": new_id(), "unit": "A"},
                    format="json")
    assert staff.status_code == 400 and "控制字符" in staff.content.decode()
    patch = hr.patch(f"/api/v1/staff/{district.a[0].staff_no}/", {"position": "科\x1b长"}, format="json")
    assert patch.status_code == 400 and "控制字符" in patch.content.decode()
    exam = legal.post("/api/v1/exams/", {"name": f"考试{BELL}", "year": 2026, "kind": "annual_law"}, format="json")
    assert exam.status_code == 400 and "考试名称" in exam.json()["detail"]
    event = legal.post("/api/v1/events/", {"title": f"讲座{BELL}", "kind": "lecture", "date": "2026-05-01",
                                          "hours": "2", "organiser": "D"}, format="json")
    assert event.status_code == 400 and "控制字符" in event.content.decode()
    assert not Staff.objects.filter(staff_no="N1").exists()
    assert not Exam.objects.exists() and not TrainingEvent.objects.exists()


def test_model_validators_refuse_control_characters_for_the_admin_and_forms(units):
    unit = Unit(code="Q1", name=f"单位{BELL}", parent=units["D"])
    with pytest.raises(ValidationError) as caught:
        unit.full_clean()
    assert "name" in caught.value.message_dict and "控制字符" in caught.value.message_dict["name"][0]


def test_admin_form_refuses_a_control_character_in_a_unit_name(personas, units):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client = Client()
    client.force_login(admin)
    response = client.post(f"/admin/roster/unit/{units['A'].pk}/change/",
                           {"code": "A", "name": f"财政{BELL}局", "parent": units["D"].pk, "kind": "department",
                            "sort_order": 1})
    assert response.status_code in (200, 302)
    assert Unit.objects.get(code="A").name == "测试区财政局"


def test_web_exam_form_refuses_a_control_character(personas):
    client = Client()
    client.force_login(personas["legal_office"].user)
    response = client.post("/exams/new/", {"name": f"考试{BELL}", "year": 2026, "kind": "annual_law",
                                           "pass_mark": "60", "max_score": "100"})
    assert not Exam.objects.exists()
    assert response.status_code == 200 and "控制字符" in response.content.decode()


# --- Excel's numbers in a CSV ---------------------------------------------------------------


@pytest.mark.parametrize("mangled", ["4.50203E+17", "4.50203e+17", "450203199001011000"])
def test_a_csv_id_number_that_excel_made_a_number_gets_the_text_format_hint(units, mangled):
    result = sync(csv_bytes([Person("0001", "张三", mangled, "A"), Person("0002", "李四", new_id(), "A")]))
    problems = [e for e in result.errors if e["column"] == "身份证号"]
    assert problems and problems[0]["message"] == idnumbers.EXCEL_NUMBER
    assert "文本" in problems[0]["message"]


def test_results_csv_with_a_scientific_id_number_gets_the_same_hint(district):
    exam = open_exam()
    result = run_import(exam, ImportKind.EXAM_RESULTS, csv_bytes(
        [["某人", "", "4.50203E+17", "某单位", 80, ""]], header=RESULT_HEADER))
    assert [e["message"] for e in result.errors] == [idnumbers.EXCEL_NUMBER]


def test_a_real_id_number_ending_in_zeros_with_a_good_check_digit_is_not_called_an_excel_number():
    # 45020319900101100 + its check digit; when that digit is 0, the number is real, not Excel's
    for body in (f"450203199001011{n:02d}" for n in range(100)):
        value = body + idnumbers.check_digit(body)
        if value.endswith("000"):
            assert idnumbers.problem(value, today=dt.date(2026, 1, 1)) is None
