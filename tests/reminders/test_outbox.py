"""The outbox: a second regular send is impossible in the database, the sweeper retries failed
rows with backoff up to REMINDER_MAX_ATTEMPTS within their period, sends rows whose sender died,
and a sender whose claim lapsed cannot overwrite the row."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from reminders.models import MessageStatus, ReminderMessage
from reminders.not_sat import remind_not_sat
from reminders.outbox import outbox_deliver, outbox_due_ids, outbox_retry_due
from reminders.selectors import reminder_status_counts
from reminders.tasks import retry_reminders

from .receivers import ERRCODE

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_second_regular_row_for_the_same_key(world, smtp):
    remind_not_sat(exam_id=world.exam.pk)
    row = ReminderMessage.objects.filter(channel="wecom", unit__code="A").first()
    clone = ReminderMessage(kind=row.kind, subject_key=row.subject_key, unit_id=row.unit_id, channel=row.channel,
                            recipient_key=row.recipient_key, recipient_masked="x", period=row.period,
                            expires_at=row.expires_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()
    clone.forced = True
    clone.save()  # a forced resend is a row of its own


def test_beat_retries_a_failed_row_with_backoff_until_it_is_sent(world, smtp, settings):
    settings.REMINDER_RETRY_SECONDS = 60
    world.robots.modes["A"] = ERRCODE
    remind_not_sat(exam_id=world.exam.pk)
    row = ReminderMessage.objects.get(unit__code="A", channel="wecom")
    now = timezone.now()
    assert row.next_attempt_at - now == pytest.approx(dt.timedelta(seconds=60), abs=dt.timedelta(seconds=5))
    assert outbox_due_ids(now=now) == []  # not before its time
    outbox_retry_due(now=now + dt.timedelta(seconds=61))  # still refused: the delay doubles
    row.refresh_from_db()
    assert (row.status, row.attempts) == (MessageStatus.FAILED, 2)
    assert row.next_attempt_at - timezone.now() == pytest.approx(dt.timedelta(seconds=120), abs=dt.timedelta(seconds=5))
    world.robots.modes["A"] = "ok"
    assert retry_reminders.apply().get() == {"sent": 0, "failed": 0, "skipped": 0}  # not due yet
    result = outbox_retry_due(now=timezone.now() + dt.timedelta(seconds=121))
    assert result == {"sent": 1, "failed": 0, "skipped": 0}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.SENT, 3, "")
    assert len(world.robots.of("A")) == 3 and len(world.robots.of("D")) == 1


def test_retries_stop_at_the_attempts_limit(world, smtp, settings):
    settings.REMINDER_MAX_ATTEMPTS = 3
    settings.REMINDER_RETRY_SECONDS = 1
    world.robots.modes["A"] = ERRCODE
    remind_not_sat(exam_id=world.exam.pk)
    for _ in range(5):
        outbox_retry_due(now=timezone.now() + dt.timedelta(hours=1))
    row = ReminderMessage.objects.get(unit__code="A", channel="wecom")
    assert (row.status, row.attempts) == (MessageStatus.FAILED, 3)
    assert len(world.robots.of("A")) == 3


def test_a_message_is_not_retried_after_its_period(world, smtp):
    world.robots.modes["A"] = ERRCODE
    remind_not_sat(exam_id=world.exam.pk)
    row = ReminderMessage.objects.get(unit__code="A", channel="wecom")
    assert outbox_due_ids(now=row.expires_at - dt.timedelta(seconds=1)) == [row.pk]
    assert outbox_due_ids(now=row.expires_at + dt.timedelta(seconds=1)) == []


def test_the_sweeper_sends_a_row_left_queued_by_a_dead_sender(world, smtp):
    remind_not_sat(exam_id=world.exam.pk)
    row = ReminderMessage.objects.get(unit__code="A", channel="wecom")
    # as a sender that claimed it and died before marking it
    ReminderMessage.objects.filter(pk=row.pk).update(
        status=MessageStatus.QUEUED, sent_at=None, claim_token="dead", attempts=1,
        claimed_until=timezone.now() + dt.timedelta(minutes=5))
    assert outbox_due_ids() == []  # the claim still holds
    ReminderMessage.objects.filter(pk=row.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    assert outbox_retry_due() == {"sent": 1, "failed": 0, "skipped": 0}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.claim_token) == (MessageStatus.SENT, 2, "")
    assert len(world.robots.of("A")) == 2  # the documented duplicate window


def test_a_row_nobody_claimed_waits_a_grace_period_before_the_sweeper_takes_it(world, smtp):
    remind_not_sat(exam_id=world.exam.pk, dry_run=False)
    row = ReminderMessage.objects.get(unit__code="A", channel="wecom")
    ReminderMessage.objects.filter(pk=row.pk).update(status=MessageStatus.QUEUED, created_at=timezone.now())
    assert row.pk not in outbox_due_ids()
    assert row.pk in outbox_due_ids(now=timezone.now() + dt.timedelta(minutes=3))


def test_a_sender_whose_claim_lapsed_cannot_mark_the_row(world, smtp):
    from reminders.outbox import _mark

    remind_not_sat(exam_id=world.exam.pk)
    row = ReminderMessage.objects.get(unit__code="A", channel="wecom")
    ReminderMessage.objects.filter(pk=row.pk).update(status=MessageStatus.QUEUED, claim_token="second-sender")
    _mark(row=row, token="first-sender", error="late answer")
    row.refresh_from_db()
    assert (row.status, row.claim_token, row.last_error) == (MessageStatus.QUEUED, "second-sender", "")


def test_a_row_another_sender_holds_is_skipped(world, smtp):
    remind_not_sat(exam_id=world.exam.pk)
    row = ReminderMessage.objects.get(unit__code="A", channel="wecom")
    ReminderMessage.objects.filter(pk=row.pk).update(status=MessageStatus.QUEUED, claim_token="other",
                                                     claimed_until=timezone.now() + dt.timedelta(minutes=1))
    assert outbox_deliver(ids=[row.pk]) == {row.pk: ("skipped", None)}
    assert len(world.robots.of("A")) == 1


def test_counts_by_status_for_metrics(world, smtp):
    assert reminder_status_counts() == {"queued": 0, "sent": 0, "failed": 0}
    world.robots.modes["A"] = ERRCODE
    remind_not_sat(exam_id=world.exam.pk)
    assert reminder_status_counts() == {"queued": 0, "sent": 4, "failed": 1}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL for concurrent transactions")
def test_two_runs_at_once_send_each_message_once(world, smtp):
    from django.db import connections

    barrier = threading.Barrier(2)
    reports = []

    def one_run() -> None:
        try:
            barrier.wait()
            reports.append(remind_not_sat(exam_id=world.exam.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(reports) == 2
    assert sum(r.count("sent") for r in reports) == 5
    assert sum(r.count("skipped") for r in reports) == 5
    assert sorted(r.robot for r in world.robots.received) == ["A", "B", "D"] and len(smtp.mails) == 2
    assert ReminderMessage.objects.filter(status=MessageStatus.SENT).count() == 5
