"""The daily beat run: the weekly digest on REMINDER_WEEKDAY, a final reminder (its own period:
the day) on each of REMINDER_FINAL_DAYS days before closing, for open exams only; and the
beat schedule itself."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.utils import timezone

from exams.models import Exam
from reminders.models import ReminderMessage
from reminders.schedule import reminders_due_today, reminders_send_due
from reminders.tasks import send_due_reminders

pytestmark = pytest.mark.django_db


def _next(weekday: int, after: dt.date) -> dt.date:
    return after + dt.timedelta(days=(weekday - after.isoweekday()) % 7)


def _set_window(exam: Exam, *, opens: dt.date, closes: dt.date) -> None:
    Exam.objects.filter(pk=exam.pk).update(opens_on=opens, closes_on=closes)


def test_weekly_on_the_weekday_and_final_reminders_on_their_days(world, settings):
    settings.REMINDER_WEEKDAY = 1
    settings.REMINDER_FINAL_DAYS = [7, 3, 1]
    monday = _next(1, timezone.localdate())
    # closes on a Sunday 13 days after that Monday: finals fall on Sunday, Thursday, Saturday
    _set_window(world.exam, opens=monday - dt.timedelta(days=30), closes=monday + dt.timedelta(days=13))
    pk = world.exam.pk
    assert reminders_due_today(today=monday) == [(pk, False)]
    assert reminders_due_today(today=monday + dt.timedelta(days=1)) == []
    assert reminders_due_today(today=monday + dt.timedelta(days=6)) == [(pk, True)]  # 7 days left
    assert reminders_due_today(today=monday + dt.timedelta(days=10)) == [(pk, True)]  # 3 days left
    assert reminders_due_today(today=monday + dt.timedelta(days=12)) == [(pk, True)]  # 1 day left
    assert reminders_due_today(today=monday + dt.timedelta(days=14)) == []  # closed


def test_a_final_day_on_the_weekday_sends_the_final_reminder_alone(world, settings):
    settings.REMINDER_WEEKDAY = 1
    monday = _next(1, timezone.localdate())
    _set_window(world.exam, opens=monday - dt.timedelta(days=30), closes=monday + dt.timedelta(days=3))
    assert reminders_due_today(today=monday) == [(world.exam.pk, True)]


def test_an_exam_not_open_yet_gets_nothing(world, settings):
    monday = _next(1, timezone.localdate())
    _set_window(world.exam, opens=monday + dt.timedelta(days=1), closes=monday + dt.timedelta(days=30))
    assert reminders_due_today(today=monday) == []


def test_the_beat_run_sends_weekly_then_finals_each_once(world, smtp, settings):
    settings.REMINDER_WEEKDAY = 1
    monday = _next(1, timezone.localdate())
    _set_window(world.exam, opens=monday - dt.timedelta(days=30), closes=monday + dt.timedelta(days=8))
    result = reminders_send_due(today=monday)
    iso = monday.isocalendar()
    assert result["exams"] == [{"exam_id": world.exam.pk, "final": False, "period": f"{iso.year}-W{iso.week:02d}",
                                "sent": 5, "skipped": 0, "failed": 0}]
    # beat fires again the same day (a restart): nothing twice
    assert reminders_send_due(today=monday)["exams"][0]["skipped"] == 5
    tuesday = monday + dt.timedelta(days=1)  # 7 days left: the final reminder, a period of its own
    result = reminders_send_due(today=tuesday)
    assert result["exams"][0]["final"] is True and result["exams"][0]["period"] == tuesday.isoformat()
    assert result["exams"][0]["sent"] == 5
    final = world.robots.text(world.robots.of("A")[-1])
    assert "最后提醒" in final and "还剩 7 天" in final
    assert set(ReminderMessage.objects.values_list("period", flat=True)) == {f"{iso.year}-W{iso.week:02d}",
                                                                            tuesday.isoformat()}


def test_the_task_runs_the_service(world, smtp, settings):
    settings.REMINDER_WEEKDAY = timezone.localdate().isoweekday()
    result = send_due_reminders.apply().get()
    assert result["exams"][0]["sent"] == 5


def test_beat_runs_daily_at_reminder_time_in_shanghai_and_retries_every_minute():
    entry = django_settings.CELERY_BEAT_SCHEDULE["reminders-send-due"]
    assert entry["task"] == "reminders.tasks.send_due_reminders"
    hour, minute = (int(p) for p in django_settings.REMINDER_TIME.split(":"))
    assert entry["schedule"] == crontab(hour=hour, minute=minute)
    assert django_settings.CELERY_TIMEZONE == "Asia/Shanghai"
    assert django_settings.CELERY_BEAT_SCHEDULE["reminders-retry"]["task"] == "reminders.tasks.retry_reminders"
