"""The learning-record endpoints: staff/{staff_no}/record/, me/record/ and
units/{code}/learning-file/{year}/. Scoping for each role, the audit of each download, the
staff role's isolation, bad input."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from audit.models import AuditEvent
from records.selectors import staff_record
from roster.models import Staff, Unit
from roster.staff import staff_update

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_api_answers_the_selectors_record(personas, activity, district):
    response = personas["legal_office"].client().get("/api/v1/staff/0001/record/")
    assert response.status_code == 200
    expected = staff_record(staff=Staff.objects.select_related("unit").get(staff_no="0001"))
    assert response.json() == expected


def test_legal_office_reads_anyone_and_a_liaison_their_subtree_by_current_unit(personas, activity, district):
    legal, liaison = personas["legal_office"].client(), personas["liaison_a"].client()
    for staff_no in ("0001", "0101", "0201"):
        assert legal.get(f"/api/v1/staff/{staff_no}/record/").status_code == 200
    assert liaison.get("/api/v1/staff/0001/record/").status_code == 200
    for staff_no in ("0101", "0201", "nobody"):
        refused = liaison.get(f"/api/v1/staff/{staff_no}/record/")
        assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
    # 0002 moves to B: their record is now B's liaison's, not A's
    staff_update(staff=Staff.objects.get(staff_no="0002"), changes={"unit": Unit.objects.get(code="B")})
    assert liaison.get("/api/v1/staff/0002/record/").status_code == 404
    assert personas["liaison_b"].client().get("/api/v1/staff/0002/record/").status_code == 200


@pytest.mark.parametrize("role", ["hr", "viewer"])
def test_hr_and_viewers_keep_no_training_data(personas, activity, role):
    client = personas[role].client()
    for path in ("/api/v1/staff/0001/record/", "/api/v1/me/record/", f"/api/v1/units/A/learning-file/{activity.year}/"):
        assert client.get(path).status_code == 403, path


def test_the_staff_role_sees_itself_and_nothing_else(personas, activity, staff_persona):
    client = staff_persona.client()
    mine = client.get("/api/v1/me/record/")
    assert mine.status_code == 200 and mine.json() == client.get("/api/v1/staff/0001/record/").json()
    assert mine.json()["staff_no"] == "0001"
    assert client.get("/api/v1/staff/0002/record/").status_code == 404
    assert client.get("/api/v1/staff/0101/record/").status_code == 404
    exam, event = activity.exam.pk, activity.events["a"].pk
    for path in ("/api/v1/staff/", "/api/v1/staff/0001/", "/api/v1/staff/0002/", "/api/v1/units/", "/api/v1/units/A/",
                 "/api/v1/exams/", f"/api/v1/exams/{exam}/", f"/api/v1/exams/{exam}/stats/",
                 f"/api/v1/exams/{exam}/not-sat/", "/api/v1/events/", f"/api/v1/events/{event}/attendance/",
                 "/api/v1/stats/participation/", f"/api/v1/reports/annual/{activity.year}/",
                 f"/api/v1/units/A/learning-file/{activity.year}/"):
        assert client.get(path).status_code == 403, path


def test_me_record_is_for_staff_accounts(personas, activity):
    for role in ("legal_office", "liaison_a"):
        assert personas[role].client().get("/api/v1/me/record/").status_code == 403


@pytest.mark.parametrize("fmt, content_type", [("docx", DOCX), ("xlsx", XLSX)])
def test_every_record_download_is_audited_with_its_rows(personas, activity, staff_persona, fmt, content_type):
    legal = personas["legal_office"].client().get(f"/api/v1/staff/0101/record/?format={fmt}", REMOTE_ADDR="10.1.2.3")
    mine = staff_persona.client().get(f"/api/v1/me/record/?format={fmt}&year={activity.year}")
    for response in (legal, mine):
        assert response.status_code == 200 and response["Content-Type"] == content_type
        assert response.content[:2] == b"PK" and "attachment" in response["Content-Disposition"]
    audits = list(AuditEvent.objects.order_by("id"))
    # rows: a year, its attendances, its exams. 0101: two attendances, one exam; 0001: one and one
    assert [(a.user.username, a.target, a.rows) for a in audits] == [
        ("legal", "staff:0101:record", 4), ("self_a", f"staff:0001:record:{activity.year}", 3)]
    assert audits[0].address == "10.1.2.3" and fmt in audits[0].reason


def test_json_reads_are_not_audited(personas, activity, staff_persona):
    personas["legal_office"].client().get("/api/v1/staff/0101/record/")
    staff_persona.client().get("/api/v1/me/record/")
    assert not AuditEvent.objects.exists()


def test_the_learning_file_for_a_unit_and_its_audit(personas, activity, district):
    response = personas["liaison_a"].client().get(f"/api/v1/units/A/learning-file/{activity.year}/")
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    book = load_workbook(io.BytesIO(body(response)))
    assert [r[0] for r in book["汇总"].iter_rows(min_row=2, values_only=True)] == [p.staff_no for p in district.a]
    docx = personas["legal_office"].client().get(f"/api/v1/units/D/learning-file/{activity.year}/?format=docx")
    assert docx.status_code == 200 and docx["Content-Type"] == DOCX and body(docx)[:2] == b"PK"
    assert list(AuditEvent.objects.order_by("id").values_list("user__username", "target", "rows")) == [
        ("liaison_a", f"unit:A:learning_file:{activity.year}", 6), ("legal", f"unit:D:learning_file:{activity.year}", 13)]


def test_a_liaison_gets_404_for_a_learning_file_outside_their_subtree(personas, activity):
    client = personas["liaison_a"].client()
    for code in ("B", "D", "NOPE"):
        response = client.get(f"/api/v1/units/{code}/learning-file/{activity.year}/")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert not AuditEvent.objects.exists()


def test_bad_years_and_formats_are_400(personas, activity):
    client = personas["legal_office"].client()
    for path in ("/api/v1/staff/0001/record/?year=1999", "/api/v1/staff/0001/record/?year=2101",
                 "/api/v1/staff/0001/record/?year=abc", "/api/v1/staff/0001/record/?year=",
                 "/api/v1/staff/0001/record/?format=pdf", "/api/v1/units/A/learning-file/1999/",
                 "/api/v1/units/A/learning-file/2101/", "/api/v1/units/A/learning-file/abcd/",
                 f"/api/v1/units/A/learning-file/{activity.year}/?format=csv"):
        response = client.get(path)
        assert response.status_code == 400 and response["Content-Type"].startswith("application/json"), path
    assert client.get("/api/v1/staff/9999/record/").status_code == 404
    assert not AuditEvent.objects.exists()


def test_a_year_with_nothing_is_answered_empty(personas, activity):
    response = personas["legal_office"].client().get("/api/v1/staff/0001/record/?year=2030")
    assert response.json()["years"] == [{"year": 2030, "required_hours": 40, "hours": 0, "missing_hours": 40,
                                         "attendances": [], "exams": []}]


def test_the_record_endpoint_runs_a_fixed_number_of_queries(personas, activity, django_assert_max_num_queries):
    client = personas["legal_office"].client()
    client.get("/api/v1/staff/0001/record/")  # warm the session and the scope's role
    with django_assert_max_num_queries(10):
        assert client.get("/api/v1/staff/0101/record/").status_code == 200
