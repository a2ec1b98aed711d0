"""Corrections on the pages: the office edits or deletes an exam (confirmation page; refused
once people sat), lifts an exemption or adds one; whoever runs an event edits or deletes it
(with attendance: a reason on the confirmation page) and sets one attendance status. A
liaison reaches only their own events and people (404 otherwise) and no exam corrections
(403). Every form carries CSRF; every correction is one audit record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from audit.models import AuditAction, AuditEvent
from exams.imports import exam_import_create, exam_import_run
from exams.models import Candidate, Exam
from roster.models import Staff, Unit
from sheets.models import ImportKind
from tests.helpers import csv_bytes, new_id
from training.attendance import attendance_record
from training.events import training_event_create
from training.models import Attendance, TrainingEvent, TrainingKind

pytestmark = pytest.mark.django_db

RESULT_HEADER = ["姓名", "工号", "身份证号", "考试成绩"]


def corrections() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.CORRECTION).order_by("id"))


def sit(exam: Exam, *people_scores) -> None:
    rows = [[p.name, p.staff_no, "", score] for p, score in people_scores]
    record = exam_import_create(exam=exam, kind=ImportKind.EXAM_RESULTS, file=csv_bytes(rows, header=RESULT_HEADER),
                                file_name="成绩.csv")
    assert exam_import_run(record=record).applied


def make_event(title: str, organiser: str | None, *attendees) -> TrainingEvent:
    event = training_event_create(title=title, kind=TrainingKind.LECTURE, date=dt.date(2026, 4, 1), hours="2",
                                  organiser=Unit.objects.get(code=organiser) if organiser else None)
    if attendees:
        ids = Staff.objects.filter(staff_no__in=[p.staff_no for p in attendees]).values_list("id", flat=True)
        attendance_record(event=event, staff_ids=list(ids), status="present")
    return event


# --- exams ----------------------------------------------------------------------------------


def test_the_office_edits_an_exam_and_a_new_pass_mark_re_derives_passed(personas, district, exam):
    sit(exam, (district.a[0], 65), (district.a[1], 90))
    client = personas["legal_office"].client()
    page = client.get(f"/exams/{exam.pk}/").content.decode()
    assert f'href="/exams/{exam.pk}/edit/"' in page and f'href="/exams/{exam.pk}/delete/"' in page
    form = client.get(f"/exams/{exam.pk}/edit/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in form and f'value="{exam.opens_on:%Y-%m-%d}"' in form
    response = client.post(f"/exams/{exam.pk}/edit/", {
        "name": "学法用法考试", "opens_on": f"{exam.opens_on:%Y-%m-%d}", "closes_on": f"{exam.closes_on:%Y-%m-%d}",
        "pass_mark": "70", "max_score": "100", "reason": "按通知调整",
    })
    assert response.status_code == 302 and response["Location"] == f"/exams/{exam.pk}/"
    assert Exam.objects.get(pk=exam.pk).pass_mark == Decimal("70")
    assert client.get(f"/exams/{exam.pk}/").context["figures"]["passed"] == 1
    assert "按通知调整" in corrections()[0].reason


def test_an_exam_edit_error_is_shown_in_chinese(personas, exam):
    response = personas["legal_office"].client().post(f"/exams/{exam.pk}/edit/", {
        "name": "学法用法考试", "opens_on": f"{exam.closes_on:%Y-%m-%d}", "closes_on": f"{exam.opens_on:%Y-%m-%d}",
        "pass_mark": "60", "max_score": "100",
    })
    assert response.status_code == 400 and "不能晚于截止日期" in response.content.decode()
    assert corrections() == []


def test_the_delete_page_confirms_and_refuses_an_exam_people_sat(personas, district, exam):
    client = personas["legal_office"].client()
    sit(exam, (district.a[0], 65))
    page = client.get(f"/exams/{exam.pk}/delete/").content.decode()
    assert 'id="delete-refused"' in page and 'id="exam-delete-form"' not in page
    refused = client.post(f"/exams/{exam.pk}/delete/", {"reason": "试试"})
    assert refused.status_code == 409 and "不能删除" in refused.content.decode()
    assert Exam.objects.filter(pk=exam.pk).exists()


def test_the_office_deletes_an_exam_nobody_sat(personas, exam):
    client = personas["legal_office"].client()
    page = client.get(f"/exams/{exam.pk}/delete/").content.decode()
    assert 'id="exam-delete-form"' in page and "考生 13 人将一并删除" in page
    response = client.post(f"/exams/{exam.pk}/delete/", {"reason": "重复创建"})
    assert response.status_code == 302 and response["Location"] == "/exams/"
    assert not Exam.objects.filter(pk=exam.pk).exists() and corrections()[0].rows == 13


def test_exemptions_are_added_and_lifted_on_the_exam_and_person_pages(personas, district, exam):
    client = personas["legal_office"].client()
    person = district.b[0]
    added = client.post(f"/exams/{exam.pk}/exemptions/", {"staff_no": person.staff_no, "reason": "长期病假"})
    assert added.status_code == 302
    listed = client.get(f"/exams/{exam.pk}/exemptions/").content.decode()
    assert "长期病假" in listed and f'href="/exams/{exam.pk}/exemptions/{person.staff_no}/lift/"' in listed
    # the person page offers the lift too
    profile = client.get(f"/people/{person.staff_no}/").content.decode()
    assert f'id="lift-{exam.pk}"' in profile
    confirm = client.get(f"/exams/{exam.pk}/exemptions/{person.staff_no}/lift/").content.decode()
    assert "确认取消" in confirm and "长期病假" in confirm
    lifted = client.post(f"/exams/{exam.pk}/exemptions/{person.staff_no}/lift/", {"reason": "已返岗"})
    assert lifted.status_code == 302
    assert not Candidate.objects.get(exam=exam, staff__staff_no=person.staff_no).exempt
    assert len(corrections()) == 2
    # no longer exempt: nothing to lift
    assert client.get(f"/exams/{exam.pk}/exemptions/{person.staff_no}/lift/").status_code == 404


def test_an_unknown_staff_no_is_a_field_error(personas, exam):
    response = personas["legal_office"].client().post(f"/exams/{exam.pk}/exemptions/", {"staff_no": "X1", "reason": "病假"})
    assert response.status_code == 400 and "名册中没有这个工号" in response.content.decode()


def test_a_liaison_has_no_exam_corrections(personas, exam):
    client = personas["liaison_a"].client()
    for path in (f"/exams/{exam.pk}/edit/", f"/exams/{exam.pk}/delete/", f"/exams/{exam.pk}/exemptions/"):
        assert client.get(path).status_code == 403
    assert f"/exams/{exam.pk}/edit/" not in client.get(f"/exams/{exam.pk}/").content.decode()


# --- training -------------------------------------------------------------------------------


def test_a_liaison_edits_their_event_and_not_another_subtrees(personas, district, units):
    mine, other = make_event("镇讲座", "T1"), make_event("局讲座", "B")
    client = personas["liaison_t"].client()
    page = client.get(f"/events/{mine.pk}/").content.decode()
    assert f'href="/events/{mine.pk}/edit/"' in page
    response = client.post(f"/events/{mine.pk}/edit/", {
        "title": "镇法治讲座", "kind": "lecture", "date": "2026-04-02", "hours": "1.5", "organiser": units["T1"].pk,
        "speaker": "", "location": "", "signin_rotates": "on", "reason": "",
    })
    assert response.status_code == 302
    stored = TrainingEvent.objects.get(pk=mine.pk)
    assert (stored.title, stored.date, stored.hours) == ("镇法治讲座", dt.date(2026, 4, 2), Decimal("1.50"))
    # an organiser outside the subtree is not among the choices
    refused = client.post(f"/events/{mine.pk}/edit/", {
        "title": "镇法治讲座", "kind": "lecture", "date": "2026-04-02", "hours": "1.5", "organiser": units["B"].pk})
    assert refused.status_code == 400 and TrainingEvent.objects.get(pk=mine.pk).organiser.code == "T1"
    for path in (f"/events/{other.pk}/edit/", f"/events/{other.pk}/delete/"):
        assert client.get(path).status_code == 404
    assert len(corrections()) == 1


def test_deleting_an_event_with_attendance_asks_for_a_reason(personas, district):
    event = make_event("重复的讲座", "A", district.a[0], district.a[1])
    client = personas["liaison_a"].client()
    page = client.get(f"/events/{event.pk}/delete/").content.decode()
    assert "已有 2 条出勤记录" in page and 'name="csrfmiddlewaretoken"' in page
    refused = client.post(f"/events/{event.pk}/delete/", {"reason": ""})
    assert refused.status_code == 400 and TrainingEvent.objects.filter(pk=event.pk).exists()
    deleted = client.post(f"/events/{event.pk}/delete/", {"reason": "重复录入"})
    assert deleted.status_code == 302 and deleted["Location"] == "/events/"
    assert not TrainingEvent.objects.filter(pk=event.pk).exists()
    assert corrections()[0].rows == 2 and "重复录入" in corrections()[0].reason


def test_one_attendance_status_by_whoever_runs_the_event(personas, district):
    event = make_event("讲座", "A", district.a[0], district.b[0])
    client = personas["liaison_a"].client()
    page = client.get(f"/events/{event.pk}/").content.decode()
    assert f'href="/events/{event.pk}/attendance/{district.a[0].staff_no}/"' in page
    response = client.post(f"/events/{event.pk}/attendance/{district.a[0].staff_no}/", {"status": "absent", "reason": "实际未到"})
    assert response.status_code == 302
    assert Attendance.objects.get(event=event, staff__staff_no=district.a[0].staff_no).status == "absent"
    # B's person attended A's lecture: not A's liaison's to correct; the office may
    assert client.get(f"/events/{event.pk}/attendance/{district.b[0].staff_no}/").status_code == 404
    office = personas["legal_office"].client()
    assert office.post(f"/events/{event.pk}/attendance/{district.b[0].staff_no}/", {"status": "late"}).status_code == 302
    assert len(corrections()) == 2


def test_corrections_are_refused_without_their_csrf_token(personas, exam):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["legal_office"].user)
    response = client.post(f"/exams/{exam.pk}/delete/", {"reason": "x"})
    assert response.status_code == 403 and Exam.objects.filter(pk=exam.pk).exists()


# --- staff search: nothing personal in a URL --------------------------------------------------


def test_the_search_form_posts_and_finds_by_full_phone(personas, district):
    client = personas["legal_office"].client()
    form = client.get("/people/").content.decode()
    assert 'method="post"' in form and 'name="csrfmiddlewaretoken"' in form
    someone = district.b[0]
    found = client.post("/people/", {"q": someone.phone})
    assert [r["staff"].staff_no for r in found.context["rows"]] == [someone.staff_no]


def test_a_full_phone_or_id_number_in_a_url_is_not_searched(personas, district):
    client = personas["legal_office"].client()
    someone = district.b[0]
    for text in (someone.phone, someone.id_number, someone.phone[-7:], "１３８ ０００0 0101"):
        page = client.get("/people/", {"q": text})
        assert page.status_code == 200 and page.context["results"] is None, text
        body = page.content.decode()
        assert 'id="search-refused"' in body and text not in body
    # a phone's last 4 digits, a 工号 and a name still work as links
    assert someone.staff_no in {r["staff"].staff_no for r in client.get("/people/", {"q": someone.phone[-4:]}).context["rows"]}
    assert [r["staff"].staff_no for r in client.get("/people/", {"q": someone.staff_no}).context["rows"]] == [someone.staff_no]


def test_a_url_matches_phones_only_by_their_last_4_digits(personas, district):
    client = personas["legal_office"].client()
    someone = district.b[0]
    # 5 or 6 digits of a phone in a URL are not a phone search (nor any 工号 here)
    assert client.get("/people/", {"q": someone.phone[-6:]}).context["rows"] == []
    assert someone.staff_no in {r["staff"].staff_no for r in client.post("/people/", {"q": someone.phone[-6:]}).context["rows"]}


def test_posted_results_page_by_post(personas, district, units):
    from roster.staff import staff_create

    for i in range(55):
        staff_create(staff_no=f"P{i:03d}", name=f"同名{i}", id_number=new_id(), unit=units["A"])
    client = personas["legal_office"].client()
    first = client.post("/people/", {"q": "同名"})
    assert first.context["results"].paginator.count == 55 and 'id="people-pager"' in first.content.decode()
    second = client.post("/people/", {"q": "同名", "page": "2"})
    assert len(second.context["rows"]) == 5


def test_the_exemptions_list_takes_a_fixed_number_of_queries(personas, district, exam, django_assert_max_num_queries):
    from exams.exemptions import candidates_exempt

    client = personas["legal_office"].client()
    two = list(Candidate.objects.filter(exam=exam, staff__unit__code="A").values_list("pk", flat=True)[:2])
    candidates_exempt(candidates=Candidate.objects.filter(pk__in=two), reason="病假")
    with django_assert_max_num_queries(12) as few:
        client.get(f"/exams/{exam.pk}/exemptions/")
    candidates_exempt(candidates=Candidate.objects.filter(exam=exam, exempt=False), reason="病假")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(f"/exams/{exam.pk}/exemptions/")
    assert page.context["exemptions"].paginator.count == 13
