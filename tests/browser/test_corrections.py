"""Corrections in the browser, without a superuser: the legal-affairs office edits an exam (a
new pass mark re-grades), lifts an exemption and adds one, deletes an exam nobody sat (and is
refused for one people sat), edits an event, sets one attendance status and deletes an event
with attendance (a reason on the confirmation page); a liaison does the event corrections of
their own subtree. Each tries one object outside their scope and gets the 404 page. Every
correction leaves one audit record. The office also finds a person by full phone number
through the posted search form: the number never appears in the URL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from exams.creation import exam_create
from exams.imports import exam_import_create, exam_import_run
from exams.models import Candidate, Exam, ExamKind
from roster.models import Staff, Unit
from roster.sync import roster_sync, roster_sync_create
from sheets.models import ImportKind
from tests.helpers import csv_bytes, people
from training.attendance import attendance_record
from training.events import training_event_create
from training.models import Attendance, TrainingEvent, TrainingKind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOT_FOUND = "页面不存在"


def corrections() -> int:
    return AuditEvent.objects.filter(action=AuditAction.CORRECTION).count()


def roster():
    staff = people(6, "A") + people(4, "B", start=101)
    assert roster_sync(sync=roster_sync_create(file=csv_bytes(staff), file_name="r.csv")).applied
    return staff


def open_exam(name: str) -> Exam:
    today = timezone.localdate()
    return exam_create(name=name, year=today.year, kind=ExamKind.ANNUAL_LAW,
                       opens_on=today - dt.timedelta(days=20), closes_on=today + dt.timedelta(days=20))


def event(title: str, organiser: str, *attendees) -> TrainingEvent:
    made = training_event_create(title=title, kind=TrainingKind.LECTURE, date=dt.date(2026, 4, 1), hours="2",
                                 organiser=Unit.objects.get(code=organiser))
    ids = list(Staff.objects.filter(staff_no__in=[p.staff_no for p in attendees]).values_list("id", flat=True))
    if ids:
        attendance_record(event=made, staff_ids=ids, status="present")
    return made


def fill(browser, selector: str, value: str) -> None:
    field = browser.find(selector)
    field.clear()
    field.send_keys(value)


def test_the_office_corrects_exams_exemptions_events_and_attendance(browser, units, make_user):
    staff = roster()
    exam = open_exam("学法用法考试")
    rows = [[staff[0].name, staff[0].staff_no, "", "92"], [staff[1].name, staff[1].staff_no, "", "80"]]
    assert exam_import_run(record=exam_import_create(
        exam=exam, kind=ImportKind.EXAM_RESULTS, file=csv_bytes(rows, header=["姓名", "工号", "身份证号", "考试成绩"]),
        file_name="成绩.csv")).applied
    Candidate.objects.filter(exam=exam, staff__staff_no=staff[2].staff_no).update(exempt=True, exempt_reason="长期病假")
    spare = open_exam("重复创建的考试")
    lecture = event("合同审查讲座", "A", staff[0], staff[1], staff[6])
    make_user("legal", "legal_office")

    browser.login("legal")
    # edit the exam: a pass mark of 90 leaves one of the two who sat passing
    browser.go(f"/exams/{exam.pk}/")
    browser.submit("#exam-edit")
    fill(browser, "#id_pass_mark", "90")
    fill(browser, "#id_reason", "按通知提高合格线")
    browser.screenshot("exam-edit")
    browser.submit("#exam-edit-form button[type=submit]")
    assert browser.path == f"/exams/{exam.pk}/"
    assert "考试已修改" in browser.text("main") and "合格线 90 / 100 分" in browser.text("main")
    assert Candidate.objects.filter(exam=exam, passed=True).count() == 1

    # lift 0003's exemption, add one for 0004
    browser.submit("#exam-exemptions")
    assert "长期病假" in browser.text("#exemptions")
    browser.submit(f"#lift-{staff[2].staff_no}")
    assert "确认取消" in browser.text("#exemption-lift")
    fill(browser, "#id_reason", "已返岗")
    browser.submit("#exemption-lift-form button[type=submit]")
    assert "已取消" in browser.text("main") and not Candidate.objects.get(exam=exam, staff__staff_no=staff[2].staff_no).exempt
    fill(browser, "#id_staff_no", staff[3].staff_no)
    fill(browser, "#id_reason", "援藏")
    browser.submit("#exemption-add-form button[type=submit]")
    assert "援藏" in browser.text("#exemptions")
    browser.screenshot("exemptions")
    # outside the scope of any lift: someone who is not exempt
    browser.go(f"/exams/{exam.pk}/exemptions/{staff[5].staff_no}/lift/")
    assert NOT_FOUND in browser.text("h1")

    # the exam people sat cannot be deleted; the one nobody sat can
    browser.go(f"/exams/{exam.pk}/delete/")
    assert "不能删除" in browser.text("#delete-refused") and not browser.find_all("#exam-delete-form")
    browser.go(f"/exams/{spare.pk}/")
    browser.submit("#exam-delete")
    fill(browser, "#id_reason", "重复创建")
    browser.screenshot("exam-delete")
    browser.submit("#exam-delete-form button[type=submit]")
    assert browser.path == "/exams/" and "已删除" in browser.text("main")
    assert not Exam.objects.filter(pk=spare.pk).exists()

    # the event: hours, one status, then deleted with a reason
    browser.go(f"/events/{lecture.pk}/")
    browser.submit("#event-edit")
    fill(browser, "#id_hours", "1.5")
    browser.submit("#event-edit-form button[type=submit]")
    assert browser.path == f"/events/{lecture.pk}/" and "1.5 学时" in browser.text("main")
    browser.submit(f"#attendance-edit-{staff[1].staff_no}")
    browser.find("#id_status option[value=absent]").click()
    fill(browser, "#id_reason", "实际未到")
    browser.submit("#attendance-form button[type=submit]")
    assert Attendance.objects.get(event=lecture, staff__staff_no=staff[1].staff_no).status == "absent"
    assert "缺席" in browser.text("#attendance")
    browser.submit("#event-delete")
    assert "已有 3 条出勤记录" in browser.text("#delete-warning")
    # no reason: the browser itself refuses to send the form (the field is required)
    browser.find("#event-delete-form button[type=submit]").click()
    assert browser.driver.execute_script("return document.querySelector('#id_reason').validity.valueMissing")
    assert browser.path == f"/events/{lecture.pk}/delete/" and TrainingEvent.objects.filter(pk=lecture.pk).exists()
    fill(browser, "#id_reason", "与另一场重复")
    browser.screenshot("event-delete")
    browser.submit("#event-delete-form button[type=submit]")
    assert browser.path == "/events/" and not TrainingEvent.objects.filter(pk=lecture.pk).exists()
    # gone now: its pages answer 404
    browser.go(f"/events/{lecture.pk}/edit/")
    assert NOT_FOUND in browser.text("h1")
    assert corrections() == 7

    # the staff search posts: a full phone number finds the person and stays out of the URL
    browser.go("/people/")
    fill(browser, "#people-search input[name=q]", staff[7].phone)
    browser.submit("#people-search button[type=submit]")
    assert browser.path == "/people/" and staff[7].phone not in browser.driver.current_url
    assert staff[7].staff_no in browser.text("#people")


def test_a_liaison_corrects_their_own_events_and_nothing_outside(browser, units, make_user):
    staff = roster()
    exam = open_exam("学法用法考试")
    ours = event("财政局讲座", "A", staff[0], staff[1], staff[6])  # B's 0101 attended too
    duplicate = event("财政局讲座（重复）", "A", staff[0])
    theirs = event("司法局讲座", "B", staff[6])
    make_user("liaison_a", "liaison", "A")

    browser.login("liaison_a")
    browser.go(f"/events/{ours.pk}/")
    browser.submit("#event-edit")
    fill(browser, "#id_title", "财政局合同审查讲座")
    browser.submit("#event-edit-form button[type=submit]")
    assert "财政局合同审查讲座" in browser.text("h1")
    # their own person's status; B's person is not in their list
    assert staff[6].name not in browser.text("#attendance")
    browser.submit(f"#attendance-edit-{staff[0].staff_no}")
    browser.find("#id_status option[value=late]").click()
    browser.submit("#attendance-form button[type=submit]")
    assert Attendance.objects.get(event=ours, staff__staff_no=staff[0].staff_no).status == "late"
    browser.screenshot("attendance-edited")

    # an event attended by another subtree's person is not theirs to delete
    browser.submit("#event-delete")
    fill(browser, "#id_reason", "误建")
    browser.submit("#event-delete-form button[type=submit]")
    assert "本单位范围以外" in browser.text("main") and TrainingEvent.objects.filter(pk=ours.pk).exists()
    # one of their own only is
    browser.go(f"/events/{duplicate.pk}/delete/")
    fill(browser, "#id_reason", "重复录入")
    browser.submit("#event-delete-form button[type=submit]")
    assert browser.path == "/events/" and not TrainingEvent.objects.filter(pk=duplicate.pk).exists()

    # outside their scope: another unit's event, another unit's person, and no exam corrections
    for path in (f"/events/{theirs.pk}/edit/", f"/events/{theirs.pk}/delete/",
                 f"/events/{ours.pk}/attendance/{staff[6].staff_no}/"):
        browser.go(path)
        assert NOT_FOUND in browser.text("h1"), path
    browser.screenshot("outside-scope")
    browser.go(f"/exams/{exam.pk}/")
    assert not browser.find_all("#exam-edit") and not browser.find_all("#exam-exemptions")
    browser.go(f"/exams/{exam.pk}/exemptions/")
    assert "无权" in browser.text("main")
    assert TrainingEvent.objects.get(pk=theirs.pk).title == "司法局讲座"
    assert corrections() == 3
