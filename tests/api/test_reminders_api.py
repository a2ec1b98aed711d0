"""The reminders API: the list narrowed by the caller's scope with its filters (a fixed number
of queries), and "send now" (202 with the job, the job's progress and its result)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from reminders.digests import period_week
from reminders.models import MessageStatus, ReminderJob, ReminderMessage
from roster.models import Unit

pytestmark = pytest.mark.django_db


def _message(exam, code: str, channel: str, status: str = MessageStatus.SENT, **extra) -> ReminderMessage:
    period = period_week(timezone.localdate())
    extra.setdefault("recipient_key", f"x:{code}:{channel}:{status}")
    return ReminderMessage.objects.create(
        kind="not_sat", subject_key=f"exam:{exam.pk}", exam=exam, unit=Unit.objects.get(code=code), channel=channel,
        recipient_masked="oapi.dingtalk.com", period=period.key,
        expires_at=period.expires_at, status=status, **extra,
    )


@pytest.fixture
def messages(activity):
    exam = activity.exam
    return [
        _message(exam, "A", "email"), _message(exam, "A", "wecom", MessageStatus.FAILED, last_error="HTTP 500"),
        _message(exam, "B", "dingtalk"), _message(exam, "T1", "wecom"), _message(exam, "D", "wecom"),
    ]


def test_legal_office_sees_every_message_a_liaison_their_subtree(personas, messages):
    everything = personas["legal_office"].client().get("/api/v1/reminders/").json()
    assert everything["count"] == 5
    mine = personas["liaison_a"].client().get("/api/v1/reminders/").json()["results"]
    assert {(m["unit"], m["channel"]) for m in mine} == {("A", "email"), ("A", "wecom")}
    assert personas["liaison_a"].client().get("/api/v1/reminders/?unit=B").status_code == 404
    assert personas["hr"].client().get("/api/v1/reminders/").status_code == 403
    assert personas["viewer"].client().get("/api/v1/reminders/").status_code == 403


def test_filters_exam_status_and_channel(personas, messages, activity):
    client = personas["legal_office"].client()
    failed = client.get("/api/v1/reminders/?status=failed").json()["results"]
    assert [(m["unit"], m["error"], m["attempts"]) for m in failed] == [("A", "HTTP 500", 0)]
    assert client.get("/api/v1/reminders/?channel=wecom").json()["count"] == 3
    assert client.get(f"/api/v1/reminders/?exam={activity.exam.pk}").json()["count"] == 5
    assert client.get(f"/api/v1/reminders/?exam={activity.exam.pk + 1000}").json()["count"] == 0
    for bad in ("status=lost", "channel=sms", "exam=abc", "exam="):
        response = client.get(f"/api/v1/reminders/?{bad}")
        assert response.status_code == 400, bad


def test_the_list_costs_the_same_queries_for_5_or_50_messages(personas, messages, activity,
                                                               django_assert_max_num_queries):
    client = personas["legal_office"].client()
    with django_assert_max_num_queries(8):
        client.get("/api/v1/reminders/")
    for i in range(45):
        _message(activity.exam, "B", "email", recipient_key=f"user:{i}")
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/reminders/?page_size=100").json()["count"] == 50


def test_send_now_answers_202_and_the_job_runs_the_service(personas, activity, django_capture_on_commit_callbacks):
    client = personas["legal_office"].client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/exams/{activity.exam.pk}/remind/", {"dry_run": True}, format="json")
    assert response.status_code == 202
    job = ReminderJob.objects.get(pk=response.json()["id"])
    assert job.dry_run and job.status == "succeeded"
    body = client.get(response["Location"]).json()
    assert body["status"] == "succeeded" and body["result"]["exam_id"] == activity.exam.pk
    assert body["result"]["messages"] == []  # nobody has an email or a robot in this district
    assert ReminderMessage.objects.count() == 0


def test_send_now_refuses_a_closed_exam_and_a_wrong_body(personas, activity):
    from exams.creation import exam_create

    client = personas["legal_office"].client()
    closed = exam_create(name="去年的考试", year=timezone.localdate().year - 1, kind="annual_law")
    response = client.post(f"/api/v1/exams/{closed.pk}/remind/", {}, format="json")
    assert response.status_code == 409 and "考试已截止" in response.json()["detail"]
    response = client.post(f"/api/v1/exams/{activity.exam.pk}/remind/", {"dry_run": "yes"}, format="json")
    assert response.status_code == 400
    assert client.post("/api/v1/exams/999999/remind/", {}, format="json").status_code == 404
    assert not ReminderJob.objects.exists()
