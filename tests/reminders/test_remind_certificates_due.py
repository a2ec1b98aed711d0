"""remind_certificates_due: each unit's due and expired enforcement certificates through the
same channels and outbox; ``not_sat`` holds the count."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from certificates.models import Certificate
from reminders.models import ReminderMessage
from roster.models import Staff

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, dict | str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("remind_certificates_due", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    text = out.getvalue()
    return code, json.loads(text) if "--json" in args else text + err.getvalue()


@pytest.fixture
def register(world):
    today = timezone.localdate()

    def cert(staff_no: str, number: str, days: int, **extra) -> None:
        Certificate.objects.create(number=number, staff=Staff.objects.get(staff_no=staff_no),
                                   issued_on=dt.date(2020, 1, 1), expires_on=today + dt.timedelta(days=days), **extra)

    cert("0001", "A1", 10)      # A: due
    cert("0002", "A2", -5)      # A: expired
    cert("0003", "A3", 400)     # A: valid
    cert("0101", "B1", 30)      # B: due
    cert("0201", "T1", 200)     # T1: valid (due within 300 days)
    cert("0102", "B2", 5, status="revoked")  # not chased
    return today


def test_the_digest_counts_due_and_expired_certificates(world, smtp, register):
    code, body = run("--json")
    assert code == 0, body
    assert {"exam_id", "period", "sent", "skipped", "failed", "messages"} <= set(body)
    counts = {(m["unit"], m["channel"]): m["not_sat"] for m in body["messages"]}
    assert counts == {("D", "wecom"): 3, ("A", "email"): 2, ("A", "wecom"): 2, ("B", "dingtalk"): 1}
    text = world.robots.text(world.robots.of("A")[0])
    assert "执法证到期提醒" in text and "**待续期**：1 张，**已过期**：1 张" in text
    assert "https://legal.example.gov.cn/certificates/?unit=A" in text
    assert ReminderMessage.objects.filter(kind="certificates_due").count() == 4
    # once a week
    again = run("--json")[1]
    assert again["sent"] == 0 and again["skipped"] == 4


def test_within_and_dry_run(world, register):
    code, body = run("--within", "300", "--dry-run", "--json")
    assert code == 0 and body["would_send"] > 0
    counts = {(m["unit"], m["channel"]): m["not_sat"] for m in body["messages"]}
    assert counts[("T", "email")] == 1 and counts[("D", "wecom")] == 4
    assert not ReminderMessage.objects.exists()
    assert run("--within", "soon")[0] == 1
