"""Corrections through the API (the permission matrix covers who gets what status): an exam's
PATCH re-derives passed, its DELETE is refused once people sat; an event's PATCH keeps a
liaison's organiser inside their subtree, its DELETE asks for a reason when attendance was
recorded; one attendance status; exemptions added by JSON and lifted. Errors are Chinese
JSON; each correction is one audit record."""

from __future__ import annotations

import pytest

from audit.models import AuditAction, AuditEvent
from exams.models import Candidate, Exam
from exams.selectors import exam_stats
from training.models import Attendance, TrainingEvent

pytestmark = pytest.mark.django_db


def corrections() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.CORRECTION).order_by("id"))


def test_a_new_pass_mark_through_the_api_re_derives_passed(personas, activity):
    # A's 0001 (80) and 0002 (50), B's 0101 (90), T1's 0201 (70) sat
    exam = activity.exam
    assert exam_stats(exam=exam)["passed"] == 3
    response = personas["legal_office"].client().patch(f"/api/v1/exams/{exam.pk}/", {"pass_mark": "75"}, format="json")
    assert response.status_code == 200, response.content
    assert exam_stats(exam=exam)["passed"] == 2
    [record] = corrections()
    assert record.user == personas["legal_office"].user and "合格分数线：60 → 75" in record.reason


def test_an_exam_edit_refused_in_chinese(personas, activity):
    client = personas["legal_office"].client()
    exam = activity.exam
    response = client.patch(f"/api/v1/exams/{exam.pk}/", {"opens_on": "2026-12-31", "closes_on": "2026-01-01"},
                            format="json")
    assert response.status_code == 400 and "不能晚于截止日期" in response.json()["detail"]
    response = client.patch(f"/api/v1/exams/{exam.pk}/", {"max_score": "60"}, format="json")
    assert response.status_code == 400 and "超过新的满分" in response.json()["detail"]
    assert corrections() == []


def test_an_exam_people_sat_is_not_deleted(personas, activity):
    response = personas["legal_office"].client().delete(f"/api/v1/exams/{activity.exam.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict" and "不能删除" in response.json()["detail"]
    assert Exam.objects.filter(pk=activity.exam.pk).exists() and corrections() == []


def test_an_exemption_is_added_by_json_and_lifted(personas, activity, district):
    client = personas["legal_office"].client()
    exam, person = activity.exam, district.b[1]
    added = client.post(f"/api/v1/exams/{exam.pk}/exemptions/", {"staff_no": person.staff_no, "reason": "援疆"},
                        format="json")
    assert added.status_code == 201, added.content
    assert Candidate.objects.get(exam=exam, staff__staff_no=person.staff_no).exempt_reason == "援疆"
    lifted = client.delete(f"/api/v1/exams/{exam.pk}/exemptions/{person.staff_no}/", {"reason": "已返岗"}, format="json")
    assert lifted.status_code == 204
    assert not Candidate.objects.get(exam=exam, staff__staff_no=person.staff_no).exempt
    assert len(corrections()) == 2
    # not exempt any more: there is no such exemption to lift
    again = client.delete(f"/api/v1/exams/{exam.pk}/exemptions/{person.staff_no}/")
    assert again.status_code == 404 and again.json()["code"] == "not_found"


def test_an_exemption_by_json_names_a_known_person_and_no_id_number(personas, activity, district):
    client = personas["legal_office"].client()
    url = f"/api/v1/exams/{activity.exam.pk}/exemptions/"
    unknown = client.post(url, {"staff_no": "X9999", "reason": "病假"}, format="json")
    assert unknown.status_code == 400 and "staff_no" in unknown.json()["errors"]
    leaked = client.post(url, {"staff_no": district.b[1].staff_no, "reason": f"身份证 {district.b[1].id_number}"},
                         format="json")
    assert leaked.status_code == 400 and "身份证号" in leaked.json()["detail"]
    sat = client.post(url, {"staff_no": district.a[0].staff_no, "reason": "病假"}, format="json")
    assert sat.status_code == 400 and "已参加考试的人员不能免考" in sat.json()["detail"]
    assert corrections() == []


def test_a_liaison_edits_their_event_but_keeps_its_organiser_in_their_subtree(personas, activity):
    client = personas["liaison_a"].client()
    event = activity.events["a"]
    moved = client.patch(f"/api/v1/events/{event.pk}/", {"organiser": "B"}, format="json")
    assert moved.status_code == 400 and "organiser" in moved.json()["errors"]
    district = client.patch(f"/api/v1/events/{event.pk}/", {"organiser": None}, format="json")
    assert district.status_code == 400 and "organiser" in district.json()["errors"]
    renamed = client.patch(f"/api/v1/events/{event.pk}/", {"title": "财政局合同审查讲座"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["title"] == "财政局合同审查讲座"
    assert renamed.json()["signin_url"]  # they run it: the answer carries its sign-in URL
    assert len(corrections()) == 1


def test_deleting_an_event_with_attendance_needs_a_reason(personas, activity):
    client = personas["legal_office"].client()
    event = activity.events["a"]
    refused = client.delete(f"/api/v1/events/{event.pk}/")
    assert refused.status_code == 409 and "删除须填写原因" in refused.json()["detail"]
    deleted = client.delete(f"/api/v1/events/{event.pk}/", {"reason": "重复录入"}, format="json")
    assert deleted.status_code == 204
    assert not TrainingEvent.objects.filter(pk=event.pk).exists() and not Attendance.objects.filter(event_id=event.pk).exists()
    [record] = corrections()
    assert record.rows == 3 and "重复录入" in record.reason


def test_a_liaison_does_not_delete_an_event_another_subtree_attended(personas, activity):
    # B's 0101 attended A's lecture: A's liaison cannot see that record, so may not delete it
    response = personas["liaison_a"].client().delete(f"/api/v1/events/{activity.events['a'].pk}/",
                                                    {"reason": "误建"}, format="json")
    assert response.status_code == 409 and "本单位范围以外" in response.json()["detail"]
    assert TrainingEvent.objects.filter(pk=activity.events["a"].pk).exists()


def test_one_attendance_status_at_the_liaisons_own_event_of_their_own_people(personas, activity, district):
    client = personas["liaison_a"].client()
    event = activity.events["a"]
    url = f"/api/v1/events/{event.pk}/attendance/"
    changed = client.patch(f"{url}{district.a[0].staff_no}/", {"status": "excused"}, format="json")
    assert changed.status_code == 200 and changed.json()["status"] == "excused"
    assert Attendance.objects.get(event=event, staff__staff_no=district.a[0].staff_no).status == "excused"
    # B's 0101 attended A's lecture: not A's liaison's to correct
    other = client.patch(f"{url}{district.b[0].staff_no}/", {"status": "absent"}, format="json")
    assert other.status_code == 404
    bad = client.patch(f"{url}{district.a[0].staff_no}/", {"status": "gone"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert len(corrections()) == 1
