"""提醒记录: the list (legal_office everything, a liaison their subtree), "send now" as a job
with progress, and the units' robots page (legal_office; hosts only)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from reminders.digests import period_week
from reminders.models import MessageStatus, ReminderJob, ReminderMessage, UnitChannel
from roster.models import Unit

pytestmark = pytest.mark.django_db

WEBHOOK = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=TOKEN-TOP-SECRET"


def _message(exam, code: str, channel: str, status: str = MessageStatus.SENT, error: str = "") -> ReminderMessage:
    period = period_week(timezone.localdate())
    return ReminderMessage.objects.create(
        kind="not_sat", subject_key=f"exam:{exam.pk}", exam=exam, unit=Unit.objects.get(code=code), channel=channel,
        recipient_key=f"unit:{code}", recipient_masked=f"host-{code}.example.com", period=period.key,
        expires_at=period.expires_at, status=status, last_error=error, count=2,
    )


def test_the_office_sees_every_message_with_its_status_and_error(personas, exam):
    _message(exam, "A", "wecom", MessageStatus.FAILED, "errcode 93000：invalid webhook url")
    _message(exam, "T1", "dingtalk")
    page = personas["legal_office"].client().get("/reminders/")
    html = page.content.decode()
    assert page.status_code == 200 and "提醒记录" in html
    assert "host-A.example.com" in html and "host-T1.example.com" in html
    assert "errcode 93000：invalid webhook url" in html and "发送失败" in html
    assert 'id="send-now"' in html and exam.name in html
    filtered = personas["legal_office"].client().get("/reminders/?status=failed").content.decode()
    assert "host-A.example.com" in filtered and "host-T1.example.com" not in filtered


def test_a_liaison_sees_their_subtree_only_and_cannot_send(personas, exam):
    _message(exam, "A", "wecom")
    _message(exam, "T1", "dingtalk")
    html = personas["liaison_t"].client().get("/reminders/").content.decode()
    assert "host-T1.example.com" in html and "host-A.example.com" not in html
    assert 'id="send-now"' not in html
    assert personas["liaison_t"].client().post("/reminders/send/", {"send-exam": exam.pk}).status_code == 403
    assert personas["liaison_t"].client().get("/reminders/channels/").status_code == 403
    assert personas["hr"].client().get("/reminders/").status_code == 403


def test_send_now_runs_as_a_job_and_shows_its_progress_and_result(personas, exam, committed):
    client = personas["legal_office"].client()
    with committed():
        response = client.post("/reminders/send/", {"send-exam": exam.pk, "send-dry_run": "on"})
    job = ReminderJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reminders/jobs/{job.pk}/"
    assert job.dry_run and job.status == "succeeded" and job.started_by == personas["legal_office"].user
    page = client.get(response["Location"]).content.decode()
    assert 'id="progress"' in page and "试运行" in page and 'id="outcome"' in page
    progress = client.get(f"/reminders/jobs/{job.pk}/progress/").json()
    assert progress["finished"] is True and progress["percent"] == 100


def test_send_now_refuses_a_closed_exam(personas, exam):
    from exams.models import Exam

    Exam.objects.filter(pk=exam.pk).update(opens_on=timezone.localdate().replace(day=1).replace(year=2020),
                                           closes_on=timezone.localdate().replace(year=2020))
    response = personas["legal_office"].client().post("/reminders/send/", {"send-exam": exam.pk}, follow=True)
    assert not ReminderJob.objects.exists()
    assert "请选择一个尚未截止的考试" in response.content.decode()


def test_the_office_sets_and_clears_a_units_robot_and_only_its_host_is_shown(personas, exam):
    client = personas["legal_office"].client()
    unit = Unit.objects.get(code="A")
    response = client.post("/reminders/channels/", {"unit": unit.pk, "channel": "wecom", "url": WEBHOOK})
    assert response.status_code == 302
    page = client.get("/reminders/channels/").content.decode()
    assert "qyapi.weixin.qq.com" in page and "TOKEN-TOP-SECRET" not in page
    bad = client.post("/reminders/channels/", {"unit": unit.pk, "channel": "wecom", "url": "ftp://x/hook"})
    assert bad.status_code == 400 and "只接受 http 或 https" in bad.content.decode()
    assert client.post("/reminders/channels/A/wecom/clear/").status_code == 302
    assert not UnitChannel.objects.exists()


def test_the_exam_page_links_to_its_reminders(personas, exam):
    html = personas["legal_office"].client().get(f"/exams/{exam.pk}/").content.decode()
    assert f'href="/reminders/?exam={exam.pk}"' in html
