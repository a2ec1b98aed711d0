"""Staff and units through the API: filters, masking, reveal with audit, create and update
through the roster services, and fixed query counts on lists."""

from __future__ import annotations

import pytest

from audit.models import AuditAction, AuditEvent
from roster.models import ChangeKind, Staff, StaffChange
from tests.helpers import new_id, people

pytestmark = pytest.mark.django_db


def staff_nos(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["staff_no"] for item in response.json()["results"]}


# --- lists and filters ------------------------------------------------------------------


def test_list_is_paginated_with_count_next_previous_results(personas, district):
    body = personas["hr"].client().get("/api/v1/staff/?page_size=5").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 13 and len(body["results"]) == 5
    assert body["previous"] is None and "page=2" in body["next"]


def test_unit_filter_takes_the_whole_subtree(personas, district):
    hr = personas["hr"].client()
    assert staff_nos(hr.get("/api/v1/staff/?unit=T")) == district.staff_nos("t1")
    assert staff_nos(hr.get("/api/v1/staff/?unit=D&page_size=100")) == district.staff_nos("a", "b", "t1")


def test_liaison_unit_filter_outside_the_subtree_is_404(personas, district):
    response = personas["liaison_a"].client().get("/api/v1/staff/?unit=T")
    assert response.status_code == 404
    assert response.json() == {"detail": "单位不存在或不在您的查看范围内。", "code": "not_found"}


def test_is_active_and_search_filters(personas, district):
    hr = personas["hr"].client()
    hr.patch(f"/api/v1/staff/{district.a[0].staff_no}/", {"is_active": False}, format="json")
    assert staff_nos(hr.get("/api/v1/staff/?is_active=false")) == {district.a[0].staff_no}
    assert district.a[0].staff_no not in staff_nos(hr.get("/api/v1/staff/?is_active=true&page_size=100"))
    assert staff_nos(hr.get("/api/v1/staff/?search=人员10")) == {"0101", "0102", "0103", "0104"}
    assert staff_nos(hr.get("/api/v1/staff/?search=0201")) == {"0201"}


def test_liaison_search_never_reaches_beyond_the_subtree(personas, district):
    assert staff_nos(personas["liaison_a"].client().get("/api/v1/staff/?search=人员10")) == set()


def test_units_filters_parent_and_kind(personas, units):
    hr = personas["hr"].client()
    codes = lambda r: {u["code"] for u in r.json()["results"]}  # noqa: E731
    assert codes(hr.get("/api/v1/units/?parent=D")) == {"A", "B", "T", "E"}
    assert codes(hr.get("/api/v1/units/?kind=department")) == {"A", "B"}
    assert hr.get("/api/v1/units/?kind=castle").status_code == 400
    assert hr.get("/api/v1/units/T1/").json() == {
        "code": "T1", "name": "测试镇综合执法队", "parent": "T", "kind": "other", "is_active": True, "depth": 2,
        "sort_order": 4,
    }


def test_staff_json_has_the_contract_fields(personas, district):
    item = personas["liaison_a"].client().get(f"/api/v1/staff/{district.a[0].staff_no}/").json()
    for key in ("staff_no", "name", "unit", "unit_name", "position", "id_number", "phone", "is_active"):
        assert key in item
    person = district.a[0]
    assert item["id_number"] == person.id_number[:6] + "********" + person.id_number[-4:]
    assert item["phone"] == person.phone
    assert (item["unit"], item["unit_name"]) == ("A", "测试区财政局")


def test_viewer_is_refused_staff_endpoints(personas, district):
    client = personas["viewer"].client()
    assert client.get("/api/v1/staff/").status_code == 403
    assert client.get(f"/api/v1/staff/{district.a[0].staff_no}/").status_code == 403


# --- reveal -----------------------------------------------------------------------------


def test_hr_reveals_one_id_number_with_a_reason_and_it_is_audited(personas, district):
    person = district.b[0]
    response = personas["hr"].client().get(f"/api/v1/staff/{person.staff_no}/?reveal=id_number&reason=核对社保信息",
                                           REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert response.json()["id_number"] == person.id_number
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get()
    assert (event.username, event.action, event.target, event.reason, event.rows, event.address) == (
        "hr", AuditAction.REVEAL_ID_NUMBER, f"staff:{person.staff_no}", "核对社保信息", 1, "10.1.2.3"
    )


def test_reveal_without_a_reason_is_refused_and_not_audited(personas, district):
    response = personas["hr"].client().get(f"/api/v1/staff/{district.a[0].staff_no}/?reveal=id_number&reason=%20")
    assert response.status_code == 400
    assert response.json()["errors"] == {"reason": ["查看完整身份证号必须说明理由（reason）。"]}
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("role", ["legal_office", "liaison_a"])
def test_only_hr_may_reveal(role, personas, district):
    response = personas[role].client().get(f"/api/v1/staff/{district.a[0].staff_no}/?reveal=id_number&reason=想看")
    assert response.status_code == 403
    assert district.a[0].id_number not in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_reveal_on_a_list_is_refused(personas, district):
    response = personas["hr"].client().get("/api/v1/staff/?reveal=id_number&reason=x")
    assert response.status_code == 400
    assert not AuditEvent.objects.exists()


# --- create and update ------------------------------------------------------------------


def test_hr_creates_staff_with_history(personas, district):
    id_number = new_id()
    response = personas["hr"].client().post(
        "/api/v1/staff/",
        {"staff_no": "N1", "name": "新同事", "id_number": id_number, "unit": "T1", "position": "队员",
         "phone": "13700000000"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response["Location"].endswith("/api/v1/staff/N1/")
    body = response.json()
    assert body["id_number"] == id_number[:6] + "********" + id_number[-4:]
    member = Staff.objects.get(staff_no="N1")
    assert member.reveal_id_number() == id_number and member.unit.code == "T1" and member.joined_on
    assert member.gender in ("男", "女")
    assert StaffChange.objects.filter(staff=member, kind=ChangeKind.CREATED, sync=None).count() == 1


def test_create_refuses_bad_rows_in_chinese_naming_the_column(personas, district):
    response = personas["hr"].client().post(
        "/api/v1/staff/",
        {"staff_no": district.a[0].staff_no, "name": "重复", "id_number": district.b[0].id_number, "unit": "A"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "人员未能添加：请改正以下问题。"
    by_column = {p["column"]: p["message"] for p in body["errors"]}
    assert by_column["工号"] == "工号已存在。"
    assert by_column["身份证号"].startswith(f"该身份证号已属于工号 {district.b[0].staff_no} 的人员")
    # the problem shows the number masked only
    assert district.b[0].id_number not in response.content.decode()
    assert Staff.objects.count() == 13


@pytest.mark.parametrize("number, message", [
    ("wrong-check-digit", "身份证号校验位错误。"),
    ("110101199013071234", "身份证号中的出生日期无效。"),
    ("ABCDEFGHIJKLMNOPQR", "身份证号应为 18 位：17 位数字加 1 位数字或 X。"),
])
def test_create_refuses_an_invalid_id_number(number, message, personas, units):
    if number == "wrong-check-digit":
        valid = new_id()
        number = valid[:17] + ("1" if valid[17] != "1" else "2")
    response = personas["hr"].client().post(
        "/api/v1/staff/", {"staff_no": "N2", "name": "甲", "id_number": number, "unit": "A"}, format="json"
    )
    assert response.status_code == 400
    problem = response.json()["errors"][0]
    assert (problem["column"], problem["message"]) == ("身份证号", message)
    assert not Staff.objects.filter(staff_no="N2").exists()


def test_create_refuses_an_unknown_unit(personas, units):
    response = personas["hr"].client().post(
        "/api/v1/staff/", {"staff_no": "N3", "name": "乙", "id_number": new_id(), "unit": "ZZ"}, format="json"
    )
    assert response.status_code == 400 and "unit" in response.json()["errors"]


def test_update_writes_one_history_row_per_changed_field(personas, district):
    person = district.a[0]
    new_number = new_id()
    response = personas["hr"].client().patch(
        f"/api/v1/staff/{person.staff_no}/",
        {"unit": "B", "position": "科长", "id_number": new_number, "name": person.name},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["unit"] == "B"
    member = Staff.objects.get(staff_no=person.staff_no)
    assert member.reveal_id_number() == new_number and member.position == "科长"
    changes = {c.field: c for c in StaffChange.objects.filter(staff=member, sync=None)}
    assert set(changes) == {"unit", "position", "id_number"}  # the unchanged name writes nothing
    assert changes["unit"].kind == ChangeKind.MOVED
    assert changes["unit"].old_value.startswith("A ") and changes["unit"].new_value.startswith("B ")
    assert changes["id_number"].old_value == person.id_number[:6] + "********" + person.id_number[-4:]
    assert new_number not in changes["id_number"].new_value


def test_deactivating_sets_the_leaving_date_and_reactivating_clears_it(personas, district):
    hr = personas["hr"].client()
    url = f"/api/v1/staff/{district.a[1].staff_no}/"
    assert hr.patch(url, {"is_active": False}, format="json").json()["left_on"]
    assert StaffChange.objects.filter(kind=ChangeKind.DEACTIVATED).count() == 1
    body = hr.patch(url, {"is_active": True}, format="json").json()
    assert body["is_active"] and body["left_on"] is None
    assert StaffChange.objects.filter(kind=ChangeKind.REACTIVATED).count() == 1


def test_update_refuses_an_id_number_held_by_someone_else(personas, district):
    response = personas["hr"].client().patch(
        f"/api/v1/staff/{district.a[0].staff_no}/", {"id_number": district.a[1].id_number, "position": "x"}, format="json"
    )
    assert response.status_code == 400
    member = Staff.objects.get(staff_no=district.a[0].staff_no)
    assert member.position == "科员"  # nothing half-applied
    assert not StaffChange.objects.filter(sync=None).exists()


def test_update_outside_the_liaisons_scope_is_a_plain_refusal(personas, district):
    """Liaisons may not write at all: 403 alike for their own staff and others', so nothing leaks."""
    client = personas["liaison_a"].client()
    for person in (district.a[0], district.b[0]):
        assert client.patch(f"/api/v1/staff/{person.staff_no}/", {"position": "x"}, format="json").status_code == 403


def test_hr_patch_of_a_missing_staff_member_is_404(personas, district):
    assert personas["hr"].client().patch("/api/v1/staff/NOPE/", {"position": "x"}, format="json").status_code == 404


def test_a_missing_or_out_of_scope_object_is_404_in_chinese_with_the_same_answer(personas, district):
    """No English "No Staff matches the given query.", no model name: one Chinese answer."""
    liaison, hr = personas["liaison_a"].client(), personas["hr"].client()
    outside = liaison.get(f"/api/v1/staff/{district.b[0].staff_no}/")
    missing = liaison.get("/api/v1/staff/NOPE/")
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json() == {"detail": "对象不存在或不在您的查看范围内。", "code": "not_found"}
    for path in ("/api/v1/units/NOPE/", "/api/v1/roster/syncs/999999/", "/api/v1/imports/999999/"):
        assert hr.get(path).json()["detail"] == "对象不存在或不在您的查看范围内。", path
    assert personas["legal_office"].client().get("/api/v1/exams/999999/").json()["detail"] == "对象不存在或不在您的查看范围内。"


# --- query counts -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["hr", "liaison_a"])
def test_staff_list_query_count_does_not_grow_with_rows(role, personas, units, district,
                                                        django_assert_max_num_queries):
    from roster.sync import roster_sync, roster_sync_create
    from tests.helpers import csv_bytes

    more = people(60, "A", start=1001)
    roster_sync(sync=roster_sync_create(file=csv_bytes(district.a + more), file_name="r.csv", mode="partial"))
    client = personas[role].client()
    # token + role + unit in one query, the unit filter, the subtree's unit ids, the count, the page
    with django_assert_max_num_queries(5):
        small = client.get("/api/v1/staff/?unit=A&page_size=5")
    with django_assert_max_num_queries(5):
        large = client.get("/api/v1/staff/?unit=A&page_size=60")
    assert len(small.json()["results"]) == 5 and len(large.json()["results"]) == 60


def test_units_list_query_count_is_fixed(personas, units, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = personas["liaison_a"].client().get("/api/v1/units/")
    assert response.status_code == 200


def test_session_authenticated_list_query_count_is_fixed(personas, district, client, django_assert_max_num_queries):
    client.force_login(personas["legal_office"].user)
    # session, user, role with unit, count, page
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/staff/?page_size=50")
    assert response.status_code == 200 and response.json()["count"] == 13


def test_audit_keeps_no_address_that_is_not_one(personas, district):
    from audit.services import audit_record

    event = audit_record(user=personas["hr"].user, action=AuditAction.EXPORT, target="staff:list", rows=13,
                         address="not-an-ip")
    assert event.address is None and event.rows == 13


def test_a_unit_filter_names_the_subtree_by_its_ids_or_by_its_path(personas, units, district, monkeypatch):
    """Both forms of the ?unit= filter (access.scoping.subtree_q) keep the same staff: the
    listed ids of a small subtree, the path prefix of one past the limit."""
    from access import scoping

    client = personas["hr"].client()

    def staff_nos(code: str) -> list[str]:
        body = client.get(f"/api/v1/staff/?unit={code}&page_size=500").json()
        return [row["staff_no"] for row in body["results"]]

    listed = {code: staff_nos(code) for code in ("D", "A", "T")}
    monkeypatch.setattr(scoping, "SUBTREE_ID_LIST_MAX", 0)
    by_path = {code: staff_nos(code) for code in ("D", "A", "T")}
    assert listed == by_path
    assert listed["A"] and set(listed["A"]) < set(listed["D"])
