"""Training events and attendance through the API: a liaison's events are those organised by
units of their subtree; they create such events and record attendance for them, by sheet
(the import_attendance service, confined to their subtree) or by a JSON list."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from roster.models import Staff
from sheets.models import ImportRecord
from tests.api.conftest import SIGNIN_HEADER
from tests.helpers import csv_bytes
from training.attendance import OUTSIDE_WITHIN
from training.models import Attendance, TrainingEvent

pytestmark = pytest.mark.django_db


def titles(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {e["title"] for e in response.json()["results"]}


# --- events -------------------------------------------------------------------------------


def test_a_liaison_sees_the_events_that_concern_their_subtree(personas, activity):
    # A organised the lecture; the study session is for the whole district; the court
    # observation is for B's people only and none of A's attended it
    assert titles(personas["liaison_a"].client().get("/api/v1/events/")) == {"财政局合同起草讲座", "全区法治专题学习"}
    assert titles(personas["liaison_b"].client().get("/api/v1/events/")) == {
        "财政局合同起草讲座", "司法局旁听庭审", "全区法治专题学习"}
    assert len(titles(personas["legal_office"].client().get("/api/v1/events/"))) == 3


def test_a_liaison_sees_an_event_their_people_attended_even_when_it_was_not_meant_for_them(personas, activity):
    from training.attendance import attendance_record

    event = activity.events["b"]
    assert attendance(personas["liaison_a"].client(), event).status_code == 404
    attendance_record(event=event, staff_ids=[Staff.objects.get(staff_no="0001").pk], status="present")
    rows = attendance(personas["liaison_a"].client(), event).json()["results"]
    assert [r["staff_no"] for r in rows] == ["0001"]


def test_a_liaison_reads_a_district_event_run_elsewhere_but_may_not_record_its_attendance(personas, activity):
    client = personas["liaison_b"].client()
    lecture = activity.events["a"]  # organised by A, for the whole district; B's 0101 attended
    assert [r["staff_no"] for r in attendance(client, lecture).json()["results"]] == ["0101"]
    response = client.post(f"/api/v1/events/{lecture.pk}/attendance/", {"staff_nos": ["0102"]}, format="json")
    assert response.status_code == 404
    assert not lecture.attendances.filter(staff__staff_no="0102").exists()


def test_event_json_and_filters(personas, activity):
    client = personas["legal_office"].client()
    body = client.get("/api/v1/events/?organiser=A").json()["results"][0]
    assert body["organiser"] == "A" and body["organiser_name"] == "测试区财政局"
    assert body["kind"] == "lecture" and body["hours"] == "2.00" and body["audience"] == "district"
    assert body["signin_url"].startswith("http://testserver/signin/") and body["audience_units"] == []
    assert titles(client.get("/api/v1/events/?organiser=D")) == {e.title for e in activity.events.values()}
    assert titles(client.get("/api/v1/events/?kind=court_observation")) == {"司法局旁听庭审"}
    assert titles(client.get(f"/api/v1/events/?year={activity.year + 1}")) == set()
    assert personas["liaison_a"].client().get("/api/v1/events/?organiser=B").status_code == 404


@pytest.mark.parametrize("role", ["hr", "viewer"])
def test_events_are_refused_to_hr_and_viewers(role, personas, activity):
    assert personas[role].client().get("/api/v1/events/").status_code == 403
    assert personas[role].client().get(f"/api/v1/events/{activity.events['a'].pk}/attendance/").status_code == 403


def test_a_liaison_creates_an_event_organised_by_a_unit_of_their_subtree(personas, units):
    body = {"title": "财政局内部学法", "kind": "study_session", "date": "2026-04-02", "hours": "1.5",
            "organiser": "A", "audience": "units", "audience_units": ["A"]}
    response = personas["liaison_a"].client().post("/api/v1/events/", body, format="json")
    assert response.status_code == 201, response.content
    event = TrainingEvent.objects.get(pk=response.json()["id"])
    assert event.organiser.code == "A" and [u.code for u in event.audience_units.all()] == ["A"]
    assert response.json()["audience_units"] == ["A"]


def test_a_liaison_may_not_create_an_event_for_another_subtree_or_without_organiser(personas, units):
    client = personas["liaison_a"].client()
    body = {"title": "越界", "kind": "lecture", "date": "2026-04-02", "hours": "1"}
    outside = client.post("/api/v1/events/", {**body, "organiser": "B"}, format="json")
    missing = client.post("/api/v1/events/", {**body, "organiser": "ZZ"}, format="json")
    # outside the subtree reads exactly like a code that does not exist
    assert outside.status_code == missing.status_code == 400
    assert str(outside.json()["errors"]).replace("B", "ZZ") == str(missing.json()["errors"])
    assert client.post("/api/v1/events/", body, format="json").status_code == 400
    assert client.post("/api/v1/events/", {**body, "organiser": "A", "audience_units": ["T1"]},
                       format="json").status_code == 400
    assert not TrainingEvent.objects.exists()


def test_legal_office_creates_events_anywhere_through_the_service(personas, units):
    client = personas["legal_office"].client()
    body = {"title": "全区讲座", "kind": "lecture", "date": "2026-04-02", "hours": "2"}
    assert client.post("/api/v1/events/", body, format="json").status_code == 201
    again = client.post("/api/v1/events/", body, format="json")
    assert again.status_code == 400 and "已有名为" in again.json()["detail"]
    assert TrainingEvent.objects.get().organiser is None


def test_events_list_runs_a_fixed_number_of_queries(personas, activity, units, django_assert_max_num_queries):
    from training.events import training_event_create

    client = personas["legal_office"].client()
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/events/").json()["count"] == 3
    for i in range(20):
        event = training_event_create(title=f"讲座{i}", kind="lecture", date=activity.events["a"].date, hours="1",
                                      organiser=units["B"], audience="units", audience_units=[units["A"], units["B"]])
        assert event.audience_units.count() == 2
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/events/").json()["count"] == 23


# --- attendance ---------------------------------------------------------------------------


def attendance(client, event, query: str = ""):
    return client.get(f"/api/v1/events/{event.pk}/attendance/{query}")


def test_a_liaison_reads_the_attendance_of_their_subtree_only(personas, activity, district):
    rows = attendance(personas["liaison_a"].client(), activity.events["a"]).json()["results"]
    # B's 0101 attended A's lecture too: a liaison of A does not see them
    assert [r["staff_no"] for r in rows] == ["0001", "0002"]
    assert set(rows[0]) == {"staff_no", "name", "unit", "unit_name", "status", "source", "signed_in_at"}
    everyone = attendance(personas["legal_office"].client(), activity.events["a"]).json()["results"]
    assert [r["staff_no"] for r in everyone] == ["0001", "0002", "0101"]


def test_attendance_of_an_event_outside_the_subtree_is_404(personas, activity):
    client = personas["liaison_a"].client()
    response = attendance(client, activity.events["b"])
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    # the district-wide study session is readable, but none of A's people were there
    assert attendance(client, activity.events["d"]).json()["count"] == 0
    assert attendance(client, activity.events["a"], "?unit=B").status_code == 404


def test_attendance_filters(personas, activity):
    client = personas["legal_office"].client()
    assert attendance(client, activity.events["a"], "?unit=B").json()["count"] == 1
    assert attendance(client, activity.events["a"], "?status=late").json()["count"] == 0
    assert attendance(client, activity.events["a"], "?status=maybe").status_code == 400


def test_attendance_list_runs_a_fixed_number_of_queries(personas, activity, django_assert_max_num_queries):
    from roster.models import Staff
    from training.attendance import attendance_record

    client = personas["legal_office"].client()
    event = activity.events["d"]
    with django_assert_max_num_queries(4):
        assert attendance(client, event).json()["count"] == 1
    attendance_record(event=event, staff_ids=list(Staff.objects.values_list("id", flat=True)), status="late")
    with django_assert_max_num_queries(4):
        assert attendance(client, event, "?page_size=100").json()["count"] == 13


def test_a_json_list_records_attendance_through_the_service(personas, activity, district):
    client = personas["liaison_a"].client()
    event = activity.events["a"]
    response = client.post(f"/api/v1/events/{event.pk}/attendance/",
                           {"staff_nos": ["0003", "0001", "0003"], "status": "late"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"event_id": event.pk, "created": 1, "updated": 1, "unchanged": 0}
    assert Attendance.objects.get(event=event, staff__staff_no="0003").source == "manual"
    statuses = dict(Attendance.objects.filter(event=event).values_list("staff__staff_no", "status"))
    assert statuses == {"0001": "late", "0002": "present", "0003": "late", "0101": "present"}


def test_a_json_list_naming_people_outside_the_subtree_changes_nothing(personas, activity):
    client = personas["liaison_a"].client()
    event = activity.events["a"]
    before = Attendance.objects.count()
    response = client.post(f"/api/v1/events/{event.pk}/attendance/", {"staff_nos": ["0004", "0102"]}, format="json")
    unknown = client.post(f"/api/v1/events/{event.pk}/attendance/", {"staff_nos": ["0004", "9999"]}, format="json")
    assert response.status_code == unknown.status_code == 400
    # a person of another unit reads exactly like one who does not exist
    assert response.json()["errors"][0]["message"] == unknown.json()["errors"][0]["message"]
    assert [e["value"] for e in response.json()["errors"]] == ["0102"]
    assert Attendance.objects.count() == before


def test_a_liaison_may_not_record_attendance_for_another_subtrees_event(personas, activity):
    response = personas["liaison_a"].client().post(
        f"/api/v1/events/{activity.events['b'].pk}/attendance/", {"staff_nos": ["0001"]}, format="json")
    assert response.status_code == 404


def sheet_upload(rows) -> SimpleUploadedFile:
    return SimpleUploadedFile("签到表.csv", csv_bytes(rows, header=SIGNIN_HEADER), content_type="text/csv")


def test_a_sheet_upload_runs_the_import_attendance_service(personas, activity, district):
    event = activity.events["d"]
    rows = [[p.name, "", p.staff_no] for p in (district.b[3], district.t1[1])] + [["人员4", "测试区财政局", ""]]
    response = personas["legal_office"].client().post(
        f"/api/v1/events/{event.pk}/attendance/", {"file": sheet_upload(rows)}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"].endswith(f"/api/v1/imports/{body['id']}/")
    assert (body["kind"], body["target_id"], body["status"]) == ("attendance", event.pk, "succeeded")
    assert body["counts"]["applied"] == 3 and body["problems"] == []
    assert set(Attendance.objects.filter(event=event).values_list("staff__staff_no", flat=True)) == {
        "0201", "0104", "0202", "0004"}
    assert ImportRecord.objects.get(pk=body["id"]).started_by == personas["legal_office"].user


def test_a_liaisons_sheet_records_only_their_subtree_and_tells_nothing_of_others(personas, activity, district):
    event = activity.events["a"]
    a4, a5, b2 = district.a[3], district.a[4], district.b[1]
    rows = [
        [a4.name, "", a4.staff_no],  # in the subtree: recorded
        [b2.name, "", b2.staff_no],  # another unit's person: not recorded
        ["人员102", "", "9999"],  # nobody
        ["别人", "", a5.staff_no],  # a name that does not agree with the staff number
    ]
    response = personas["liaison_a"].client().post(
        f"/api/v1/events/{event.pk}/attendance/", {"file": sheet_upload(rows)}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["counts"]["applied"] == 1
    assert [(p["row"], p["kind"], p["message"]) for p in body["problems"]] == [
        (3, "unmatched", OUTSIDE_WITHIN), (4, "unmatched", OUTSIDE_WITHIN), (5, "unmatched", OUTSIDE_WITHIN)]
    assert set(Attendance.objects.filter(event=event).values_list("staff__staff_no", flat=True)) == {
        "0001", "0002", "0101", a4.staff_no}
    # the liaison reads the record they started
    assert personas["liaison_a"].client().get(f"/api/v1/imports/{body['id']}/").status_code == 200
    assert personas["liaison_b"].client().get(f"/api/v1/imports/{body['id']}/").status_code == 404


def test_an_unreadable_sheet_is_400(personas, activity):
    response = personas["legal_office"].client().post(
        f"/api/v1/events/{activity.events['a'].pk}/attendance/",
        {"file": SimpleUploadedFile("x.csv", csv_bytes([["x"]], header=["备注"]), content_type="text/csv")},
        format="multipart")
    assert response.status_code == 400 and response.json()["detail"]


def test_a_sheet_keeps_the_upload_size_limit(personas, activity, settings):
    settings.SHEETS_MAX_BYTES = 50
    response = personas["legal_office"].client().post(
        f"/api/v1/events/{activity.events['a'].pk}/attendance/",
        {"file": SimpleUploadedFile("x.csv", b"x" * 51, content_type="text/csv")}, format="multipart")
    assert response.status_code == 400
