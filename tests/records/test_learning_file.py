"""The unit's yearly learning file (年度学法档案): who it lists, its two sheets exactly, one
Word page per person, its figures against training_stats and exam_stats, formula safety,
and reading a chunk of people at a time."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.utils import timezone
from docx import Document
from openpyxl import load_workbook

from exams.models import Exam
from records import selectors
from records.exports import learning_file_export
from records.selectors import learning_file_people
from roster.models import Staff, Unit
from tests.exams.conftest import sync
from tests.helpers import people, run_command
from tests.reports.conftest import attend
from training.events import training_event_create
from training.selectors import training_stats

pytestmark = pytest.mark.django_db


def workbook(unit: Unit, year: int):
    out = io.BytesIO()
    learning_file_export(unit=unit, year=year, format="xlsx", out=out, reason="test")
    return load_workbook(io.BytesIO(out.getvalue()))


def rows(sheet) -> list[list]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def summary(unit: Unit, year: int) -> list[list]:
    return rows(workbook(unit, year)["汇总"])


def test_the_workbook_has_the_two_sheets_with_their_columns(district):
    book = workbook(district.units["D"], district.year)
    assert book.sheetnames == ["汇总", "明细"]
    assert rows(book["汇总"])[0] == ["工号", "姓名", "单位", "学时", "应修学时", "差额", "学法用法考试"]
    assert rows(book["明细"])[0] == ["工号", "姓名", "日期", "活动", "类型", "学时", "出勤情况"]


def test_summary_rows_this_year_by_hand(district):
    table = summary(district.units["D"], district.year)[1:]
    # active now, in the district's order (A, B, T, T1, S1), by 工号; requirement 5 hours
    assert table == [
        ["0001", "甲一", "测试区财政局", 5, 5, 0, "合格 80"],
        ["0003", "甲三", "测试区财政局", 0, 5, 5, "免考"],
        ["0002", "甲二", "测试区司法局", 3.5, 5, 1.5, "合格 70"],
        ["0101", "乙一", "测试区司法局", 3.5, 5, 1.5, "合格 65"],
        ["0201", "丙一", "测试镇", 3, 5, 2, "合格 100"],
        ["0211", "丁一", "测试镇综合执法队", 0, 5, 5, "合格 75"],
        ["0212", "丁二", "测试镇综合执法队", 0, 5, 5, "未参考"],
        ["0301", "戊一", "测试第一小学", 0, 5, 5, "不合格 40"],
        ["0302", "戊二", "测试第一小学", 0, 5, 5, "合格 88"],
    ]


def test_detail_rows_are_every_attendance_record_of_the_people_listed(district):
    table = rows(workbook(district.units["T"], district.year)["明细"])[1:]
    today = timezone.localdate()
    assert [[r[0], r[1], r[2].date(), r[3], r[4], r[5], r[6]] for r in table] == [
        ["0201", "丙一", today, "讲座一", "法治讲座", 0, "缺席"],
        ["0201", "丙一", today, "旁听庭审", "旁听庭审", 3, "出席"],
    ]


def test_staff_numbers_are_text_cells(district):
    book = workbook(district.units["D"], district.year)
    for sheet in book:
        for cell in list(sheet.columns)[0][1:]:
            assert cell.data_type == "s" and cell.number_format == "@" and cell.value.startswith("0")


def test_hours_summed_over_a_unit_equal_training_stats_person_hours(district):
    """Equal for every unit, except where a person moved between units during the year: the
    file lists people where they are at the year's end with all their hours; the figures count
    each attendance in the unit of its day. 0002 moved from A to B after lecture 1 (2 h in A)."""
    year = district.year
    for code, unit in district.units.items():
        hours = sum(Decimal(str(r[3])) for r in summary(unit, year)[1:])
        moved = {"A": Decimal("-2"), "B": Decimal("2")}.get(code, Decimal("0"))
        assert hours == training_stats(year=year, unit=unit)["person_hours"] + moved, code
    assert sum(Decimal(str(r[3])) for r in summary(district.units["D"], year)[1:]) == Decimal("15")


def test_hours_equal_training_stats_in_a_district_where_nobody_moved(units):
    sync(people(3, "A", start=1) + people(2, "B", start=101) + people(2, "S1", start=301))
    year = timezone.localdate().year
    lecture = training_event_create(title="讲座", kind="lecture", date=timezone.localdate(), hours="2.5",
                                    organiser=units["A"])
    attend(lecture, ["0001", "0002", "0101", "0301"])
    attend(lecture, ["0003"], "absent")
    court = training_event_create(title="庭审", kind="court_observation", date=timezone.localdate(), hours="4")
    attend(court, ["0001", "0102"])
    for code, unit in units.items():
        hours = sum(Decimal(str(r[3])) for r in summary(unit, year)[1:])
        assert hours == training_stats(year=year, unit=unit)["person_hours"], code


def test_not_sat_cells_equal_exam_stats_not_sat_for_every_unit(district):
    for code in district.units:
        cells = [r[6] for r in summary(district.units[code], district.year)[1:]]
        outcome = run_command("exam_stats", district.exam.pk, "--unit", code, "--json")
        assert cells.count("未参考") == outcome.json()["not_sat"], code
    assert [r[6] for r in summary(district.units["D"], district.year)[1:]].count("未参考") == 1  # 0212


def test_last_year_lists_who_was_there_at_its_end(last_year):
    units = {u.code: u for u in Unit.objects.all()}
    year = last_year.year
    assert [(p.staff_no, p.unit_code) for p in learning_file_people(year=year, unit=units["A"])] == [
        ("1001", "A"), ("1004", "A")]
    assert [(p.staff_no, p.unit_code) for p in learning_file_people(year=year, unit=units["B"])] == [
        ("1002", "B"), ("1101", "B"), ("1201", "B")]
    # this year: now
    assert [p.staff_no for p in learning_file_people(year=year + 1, unit=units["A"])] == ["1001"]
    assert [p.staff_no for p in learning_file_people(year=year + 1, unit=units["B"])] == ["1002", "1101", "1201", "1202"]


def test_last_years_summary_by_hand(last_year):
    units = {u.code: u for u in Unit.objects.all()}
    table = summary(units["D"], last_year.year)
    assert table[0] == ["工号", "姓名", "单位", "学时", "应修学时", "差额", "去年学法用法考试"]
    assert table[1:] == [
        ["1001", "庚一", "测试区财政局", 5, 40, 35, "合格 78"],
        ["1004", "庚四", "测试区财政局", 3, 40, 37, "未参考"],
        ["1002", "庚二", "测试区司法局", 5, 40, 35, "合格 90"],
        ["1101", "辛一", "测试区司法局", 0, 40, 40, "免考"],
        ["1201", "辛二", "测试区司法局", 3, 40, 37, None],
    ]


def test_the_first_sync_counts_from_before_any_year_and_later_joiners_from_their_day(last_year):
    units = {u.code: u for u in Unit.objects.all()}
    assert [p.staff_no for p in learning_file_people(year=2001, unit=units["D"])] == [
        "1001", "1002", "1003", "1004", "1101"]
    # a later sync's people joined on their day: nobody added by hand before the first sync
    Staff.objects.filter(staff_no="1201").update(joined_on=None)
    assert "1201" not in [p.staff_no for p in learning_file_people(year=last_year.year, unit=units["B"])]


def test_word_file_has_one_page_per_person_with_a_heading_naming_unit_and_year(district):
    out = io.BytesIO()
    people = learning_file_export(unit=district.units["T"], year=district.year, format="docx", out=out, reason="test")
    document = Document(io.BytesIO(out.getvalue()))
    paragraphs = document.paragraphs
    headings = [p for p in paragraphs if p.text == f"测试镇{district.year}年度学法档案"]
    assert people == len(headings) == 3
    # every person after the first starts a new page
    assert [p.paragraph_format.page_break_before for p in headings] == [None, True, True]
    persons = [p.text for p in paragraphs if p.text.startswith("姓名：")]
    assert persons == ["姓名：丙一　工号：0201　单位：测试镇", "姓名：丁一　工号：0211　单位：测试镇综合执法队",
                       "姓名：丁二　工号：0212　单位：测试镇综合执法队"]
    # 0201's page: a table of two attendances, one of one exam
    attendance, exam = document.tables[0], document.tables[1]
    assert [c.text for c in attendance.rows[2].cells][1:] == ["旁听庭审", "旁听庭审", "测试镇", "3", "出席"]
    assert [c.text for c in exam.rows[1].cells] == ["学法用法考试", "学法用法考试", "合格", "100", "1", ""]
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)


def test_an_empty_learning_file_says_so(units):
    out = io.BytesIO()
    assert learning_file_export(unit=units["E"], year=2024, format="docx", out=out, reason="test") == 0
    assert "本年度无在册人员。" in [p.text for p in Document(io.BytesIO(out.getvalue())).paragraphs]
    assert summary(units["E"], 2024) == [["工号", "姓名", "单位", "学时", "应修学时", "差额"]]


def test_text_that_looks_like_a_formula_stays_text(district):
    Staff.objects.filter(staff_no="0201").update(name="=HYPERLINK(\"http://x\",\"y\")")
    Exam.objects.filter(pk=district.exam.pk).update(name="+考试")
    book = workbook(district.units["T"], district.year)
    header, first = list(book["汇总"].iter_rows(max_row=2))
    assert header[6].value == "+考试" and header[6].data_type == "s" and header[6].quotePrefix
    assert first[1].value.startswith("=HYPERLINK") and first[1].data_type == "s" and first[1].quotePrefix
    detail = list(book["明细"].iter_rows(min_row=2, max_row=2))[0]
    assert detail[1].data_type == "s" and detail[1].quotePrefix


def test_people_are_read_a_chunk_at_a_time_and_the_file_does_not_change(district, monkeypatch):
    whole = summary(district.units["D"], district.year)
    calls = []
    original = selectors.year_entries

    def spy(*, staff_ids, year=None):
        calls.append(len(staff_ids))
        return original(staff_ids=staff_ids, year=year)

    monkeypatch.setattr(selectors, "PEOPLE_PER_CHUNK", 2)
    monkeypatch.setattr(selectors, "year_entries", spy)
    assert summary(district.units["D"], district.year) == whole
    assert calls == [2, 2, 2, 2, 1]


def test_each_file_is_audited_with_the_people_it_lists(district):
    from audit.models import AuditEvent

    for fmt in ("xlsx", "docx"):
        learning_file_export(unit=district.units["B"], year=district.year, format=fmt, out=io.BytesIO(),
                             reason="导出", username="命令行:test")
    assert list(AuditEvent.objects.order_by("id").values_list("action", "target", "rows", "username")) == [
        ("export", f"unit:B:learning_file:{district.year}", 2, "命令行:test")] * 2


def test_hostile_text_leaves_the_word_file_readable(district):
    Staff.objects.filter(staff_no="0201").update(name="丙<一>&\x01\"'")
    out = io.BytesIO()
    learning_file_export(unit=district.units["T"], year=district.year, format="docx", out=out, reason="test")
    persons = [p.text for p in Document(io.BytesIO(out.getvalue())).paragraphs if p.text.startswith("姓名：")]
    # markup characters kept as text; a control character XML cannot hold is dropped
    assert persons[0] == "姓名：丙<一>&\"'　工号：0201　单位：测试镇"
