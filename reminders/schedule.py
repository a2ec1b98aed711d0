"""The daily beat run: for every open exam, the weekly digest on ``REMINDER_WEEKDAY`` and a
final reminder on each of ``REMINDER_FINAL_DAYS`` days before closing."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from config.errors import DomainError
from exams.models import Exam

from .not_sat import remind_not_sat

logger = logging.getLogger(__name__)


def reminders_due_today(*, today: dt.date) -> list[tuple[int, bool]]:
    """(exam id, final) of the digests due today. On a day that is both a final day and the
    weekday, the final reminder alone goes out."""
    weekly = today.isoweekday() == settings.REMINDER_WEEKDAY
    due = []
    for pk, closes_on in Exam.objects.filter(opens_on__lte=today, closes_on__gte=today).values_list("pk", "closes_on"):
        final = (closes_on - today).days in settings.REMINDER_FINAL_DAYS
        if final or weekly:
            due.append((pk, final))
    return due


def reminders_send_due(*, today: dt.date | None = None) -> dict[str, Any]:
    """Send what is due today. One exam's failure never stops the others."""
    today = today or timezone.localdate()
    sent: dict[str, Any] = {"date": today.isoformat(), "exams": []}
    for exam_id, final in reminders_due_today(today=today):
        try:
            report = remind_not_sat(exam_id=exam_id, final=final, today=today)
        except DomainError as exc:
            sent["exams"].append({"exam_id": exam_id, "final": final, "error": exc.message})
            continue
        except Exception:
            logger.exception("the due reminders of exam %s failed", exam_id)
            sent["exams"].append({"exam_id": exam_id, "final": final, "error": "内部错误"})
            continue
        body = report.as_dict()
        sent["exams"].append({"exam_id": exam_id, "final": final, "period": body["period"], "sent": body["sent"],
                              "skipped": body["skipped"], "failed": body["failed"]})
    return sent
