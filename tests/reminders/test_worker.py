"""Reminders on a real Celery worker (PostgreSQL, Redis): "send now" runs as a job with
progress; a worker killed in the middle of a send leaves that message queued, and the sweeper
sends it once the claim has lapsed, while what was already sent is not sent again."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from django.utils import timezone

from config.jobs import JobStatus
from reminders.models import MessageStatus, ReminderJob, ReminderMessage
from reminders.outbox import outbox_retry_due
from reminders.sendnow import reminder_job_create
from tests.conftest import requires_real_services

from .receivers import HANG

pytestmark = [pytest.mark.worker, requires_real_services, pytest.mark.django_db(transaction=True)]

TIMEOUT = 5  # the worker's REMINDER_TIMEOUT_SECONDS and EMAIL_TIMEOUT; its claims last 3 timeouts (no margin)


@pytest.fixture
def worker(request, monkeypatch, world, smtp, settings):
    """The worker process, told where the SMTP server is and how long to wait for a channel."""
    monkeypatch.setenv("EMAIL_HOST", settings.EMAIL_HOST)
    monkeypatch.setenv("EMAIL_PORT", str(settings.EMAIL_PORT))
    monkeypatch.setenv("DEFAULT_FROM_EMAIL", settings.DEFAULT_FROM_EMAIL)
    monkeypatch.setenv("REMINDER_TIMEOUT_SECONDS", str(TIMEOUT))
    monkeypatch.setenv("EMAIL_TIMEOUT", str(TIMEOUT))
    monkeypatch.setenv("REMINDER_CLAIM_MARGIN_SECONDS", "0")
    return request.getfixturevalue("celery_worker_process")


def wait_for(condition, seconds: float, step: float = 0.05) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def test_send_now_runs_on_the_worker_with_progress(worker, world, smtp):
    job = reminder_job_create(exam_id=world.exam.pk)
    assert wait_for(lambda: ReminderJob.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED, 60, 0.2)
    job.refresh_from_db()
    assert (job.progress_done, job.progress_total) == (5, 5)
    assert job.result["sent"] == 5 and job.result["exam_id"] == world.exam.pk
    assert sorted(r.robot for r in world.robots.received) == ["A", "B", "D"] and len(smtp.mails) == 2


def test_a_worker_killed_mid_send_leaves_the_message_queued_and_the_sweeper_sends_it_once(worker, world, smtp):
    world.robots.modes["D"] = HANG
    job = reminder_job_create(exam_id=world.exam.pk)
    assert world.robots.hang_started.wait(60), "the worker never reached the district's robot"
    others_sent = lambda: ReminderMessage.objects.filter(status=MessageStatus.SENT).count() == 4  # noqa: E731
    assert wait_for(others_sent, TIMEOUT - 1.5), "the other messages were not marked while D hung"
    for pid in children_of(worker.pid):
        os.kill(pid, signal.SIGKILL)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)

    row = ReminderMessage.objects.get(unit__code="D")
    assert (row.status, row.attempts) == (MessageStatus.QUEUED, 1) and row.claim_token
    assert row.sent_at is None and ReminderJob.objects.get(pk=job.pk).status == JobStatus.RUNNING
    # the sweeper leaves it alone while the dead sender's claim holds, then sends it
    world.robots.modes["D"] = "ok"
    world.robots.release.set()
    assert outbox_retry_due() == {"sent": 0, "failed": 0, "skipped": 0}
    assert wait_for(lambda: row.claimed_until < timezone.now(), 3 * TIMEOUT + 5, 0.5)
    assert outbox_retry_due() == {"sent": 1, "failed": 0, "skipped": 0}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.claim_token) == (MessageStatus.SENT, 2, "")
    # D's robot saw the request that hung and the one that went through; nobody else twice
    assert len(world.robots.of("D")) == 2
    assert len(world.robots.of("A")) == 1 and len(world.robots.of("B")) == 1 and len(smtp.mails) == 2
    assert ReminderMessage.objects.filter(status=MessageStatus.SENT).count() == 5
