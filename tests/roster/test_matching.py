from __future__ import annotations

import pytest

from roster.matching import ID_NUMBER, NAME_UNIT, PHONE, STAFF_NO, match_rows
from roster.models import Staff
from roster.sync import roster_sync, roster_sync_create
from sheets.columns import Column, Schema
from sheets.reader import read_table
from tests.helpers import Person, csv_bytes, new_id, xlsx_bytes

pytestmark = pytest.mark.django_db

SCHEMA = Schema(
    columns=(
        Column("staff_no", "工号", ("工号",)),
        Column("id_number", "身份证号", ("身份证号",)),
        Column("phone", "手机号", ("手机号",)),
        Column("name", "姓名", ("姓名",), required=True),
        Column("unit", "单位", ("单位",)),
    )
)
HEADER = ["工号", "身份证号", "手机号", "姓名", "单位"]
SHEET_KEYS = (STAFF_NO, ID_NUMBER, PHONE, NAME_UNIT)
RESULT_KEYS = (STAFF_NO, ID_NUMBER)


@pytest.fixture
def staff(units):
    people = [
        Person("0001", "张三", new_id(), "A", phone="13800000001"),
        Person("0002", "李四", new_id(), "A", phone="13800000002"),
        Person("0003", "王五", new_id(), "B", phone="13800000003"),
        Person("0004", "王五", new_id(), "B", phone="13800000004"),
        Person("0005", "赵六", new_id(), "T1", phone="13800000005"),
    ]
    roster_sync(sync=roster_sync_create(file=csv_bytes(people), file_name="r.csv"))
    return {p.staff_no: p for p in people}


def match(rows, keys=SHEET_KEYS, xlsx=False):
    data = xlsx_bytes(rows, header=HEADER) if xlsx else csv_bytes(rows, header=HEADER)
    table = read_table(data, filename="s.xlsx" if xlsx else "s.csv", schema=SCHEMA)
    return match_rows(table, keys=keys)


def staff_nos(result):
    return [m.staff.staff_no for m in result.matched]


def test_match_by_staff_no(staff):
    assert staff_nos(match([["0001", "", "", "张三", ""]])) == ["0001"]


def test_match_by_id_number(staff):
    assert staff_nos(match([["", staff["0002"].id_number, "", "李四", ""]])) == ["0002"]


def test_match_by_phone(staff):
    result = match([["", "", "13800000005", "赵六", ""]])
    assert staff_nos(result) == ["0005"] and result.matched[0].matched_by == PHONE


def test_match_by_name_and_unit_code_or_name(staff):
    result = match([["", "", "", "张三", "A"], ["", "", "", "赵六", "测试镇综合执法队"]])
    assert staff_nos(result) == ["0001", "0005"]


def test_same_name_in_same_unit_is_ambiguous(staff):
    result = match([["", "", "", "王五", "B"]])
    assert result.matched == []
    assert result.problems[0].kind == "ambiguous" and result.problems[0].row == 2


def test_nobody_is_unmatched(staff):
    result = match([["", "", "", "不存在", "A"], ["9999", "", "", "某某", ""]])
    assert [p.kind for p in result.problems] == ["unmatched", "unmatched"]


def test_id_number_of_someone_else_is_a_conflict(staff):
    result = match([["", staff["0001"].id_number, "", "李四", ""]], keys=RESULT_KEYS)
    assert result.matched == []
    assert result.problems[0].kind == "conflict"
    assert staff["0001"].id_number not in (result.problems[0].value or "")


def test_staff_no_and_id_number_of_different_people_conflict(staff):
    result = match([["0001", staff["0002"].id_number, "", "", ""]], keys=RESULT_KEYS)
    assert result.problems[0].kind == "conflict"


def test_name_and_unit_are_not_used_when_not_allowed(staff):
    result = match([["", "", "", "张三", "A"]], keys=RESULT_KEYS)
    assert result.matched == [] and result.problems[0].kind == "invalid"


def test_id_number_stored_as_excel_number_is_invalid(staff):
    result = match([["", 450203199001011234, "", "张三", ""]], keys=RESULT_KEYS, xlsx=True)
    assert result.problems[0].kind == "invalid" and "文本" in result.problems[0].message


def test_broken_id_number_is_invalid(staff):
    result = match([["", "450203199001011230", "", "张三", ""]], keys=RESULT_KEYS)
    assert result.problems[0].kind == "invalid"


def test_inactive_staff_match_by_key_but_not_by_name(staff):
    Staff.objects.filter(staff_no="0001").update(is_active=False)
    assert staff_nos(match([["0001", "", "", "张三", ""]])) == ["0001"]
    assert match([["", "", "", "张三", "A"]]).problems[0].kind == "unmatched"


def test_lookups_do_not_grow_with_rows(staff, django_assert_max_num_queries):
    rows = [["0001", "", "", "张三", ""]] * 50 + [["", "", "", "赵六", "T1"]] * 50
    with django_assert_max_num_queries(6):
        result = match(rows)
    assert len(result.matched) == 100


def test_a_large_file_is_matched_by_id_number_in_a_few_queries(units, django_assert_max_num_queries):
    # 2,500 rows: one lookup on PostgreSQL (an array parameter), two chunks elsewhere
    ids: set[str] = set()
    while len(ids) < 2500:
        ids.add(new_id())
    crowd = [Person(f"{i:05d}", f"人员{i}", id_number, "A") for i, id_number in enumerate(sorted(ids))]
    roster_sync(sync=roster_sync_create(file=csv_bytes(crowd), file_name="r.csv"))
    rows = [["", p.id_number, "", p.name, ""] for p in crowd]
    table = read_table(csv_bytes(rows, header=HEADER), filename="s.csv", schema=SCHEMA)
    with django_assert_max_num_queries(2):
        result = match_rows(table, keys=RESULT_KEYS)
    assert len(result.matched) == 2500 and not result.problems
