"""remind_not_sat: who gets which digest, what it says, the JSON, once per period, --force,
--dry-run, --unit, failures that never stop the others, and the exit status. The mails go to a
real SMTP server (aiosmtpd) and the robots' messages to a local HTTP server."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from reminders.models import MessageStatus, ReminderMessage
from reminders.not_sat import remind_not_sat
from roster.models import Staff

from .receivers import ERRCODE, HANG, HTTP_500

pytestmark = pytest.mark.django_db

MESSAGE_KEYS = {"unit", "channel", "recipient", "not_sat", "status", "error"}


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("remind_not_sat", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def run_json(*args: str) -> tuple[int, dict]:
    code, out, _ = run(*args, "--json")
    return code, json.loads(out)


def by_recipient(body: dict) -> dict[tuple[str, str], dict]:
    return {(m["unit"], m["channel"]): m for m in body["messages"]}


def test_every_recipient_with_somebody_to_chase_gets_its_subtree_digest_once(world, smtp):
    code, body = run_json(str(world.exam.pk))
    assert code == 0
    assert set(body) == {"exam_id", "period", "sent", "skipped", "failed", "messages"}
    today = timezone.localdate().isocalendar()
    assert body["exam_id"] == world.exam.pk and body["period"] == f"{today.year}-W{today.week:02d}"
    messages = by_recipient(body)
    # E's liaison has nobody to chase (no staff there): nothing for them
    assert set(messages) == {("D", "wecom"), ("A", "email"), ("A", "wecom"), ("B", "dingtalk"), ("T", "email")}
    assert all(set(m) == MESSAGE_KEYS and m["status"] == "sent" and m["error"] is None for m in body["messages"])
    assert {k: m["not_sat"] for k, m in messages.items()} == {
        ("D", "wecom"): 8, ("A", "email"): 3, ("A", "wecom"): 3, ("B", "dingtalk"): 3, ("T", "email"): 2}
    assert (body["sent"], body["skipped"], body["failed"]) == (5, 0, 0)
    # the recipient is masked: an email's first letter and domain, a robot's host
    assert messages[("A", "email")]["recipient"] == "l***@example.gov.cn"
    assert messages[("A", "wecom")]["recipient"] == "127.0.0.1"
    assert sorted(r for mail in smtp.mails for r in mail.recipients) == ["liaison.a@example.gov.cn",
                                                                         "liaison.t@example.gov.cn"]
    assert sorted(r.robot for r in world.robots.received) == ["A", "B", "D"]
    assert ReminderMessage.objects.filter(status=MessageStatus.SENT).count() == 5


def test_the_message_states_the_exam_dates_counts_rate_sub_units_and_link(world, smtp):
    run_json(str(world.exam.pk))
    district = world.robots.text(world.robots.of("D")[0])
    closes = world.exam.closes_on
    assert world.exam.name in district
    assert f"{closes:%Y-%m-%d}" in district and "还剩 10 天" in district
    assert "**应考**：12 人" in district and "**未参考**：8 人" in district and "33.3%" in district
    # each direct sub-unit that still has somebody to sit, with its count; E (nobody) is left out
    assert "- 测试区财政局：3 人" in district and "- 测试区司法局：3 人" in district and "- 测试镇：2 人" in district
    assert "教育局" not in district
    assert f"(https://legal.example.gov.cn/exams/{world.exam.pk}/not-sat/D/)" in district
    mail = next(m for m in smtp.mails if m.recipients == ["liaison.t@example.gov.cn"])
    assert "测试镇" in mail.subject.strip() and world.exam.name in mail.subject
    assert "应考：3 人，未参考：2 人，参考率：33.3%" in mail.body
    assert "- 测试镇综合执法队：2 人" in mail.body
    assert f"https://legal.example.gov.cn/exams/{world.exam.pk}/not-sat/T/" in mail.body
    assert "**" not in mail.body  # plain text, not markdown
    assert mail.sender == "reminders@example.gov.cn"
    # the body as sent is on the outbox row
    row = ReminderMessage.objects.get(unit__code="T", channel="email")
    assert row.body.strip() == mail.body.replace("\r\n", "\n").strip()


def test_wecom_and_dingtalk_receive_their_documented_json_and_dingtalk_is_signed(world, smtp):
    run_json(str(world.exam.pk))
    wecom = world.robots.of("A")[0]
    assert wecom.payload["msgtype"] == "markdown" and set(wecom.payload["markdown"]) == {"content"}
    assert wecom.query == {"key": "TOKEN-A"}
    dingtalk = world.robots.of("B")[0]
    assert dingtalk.payload["msgtype"] == "markdown" and set(dingtalk.payload["markdown"]) == {"title", "text"}
    assert dingtalk.query["access_token"] == "TOKEN-B" and {"timestamp", "sign"} <= set(dingtalk.query)
    assert dingtalk.sign_ok is True
    assert "测试区司法局" in dingtalk.payload["markdown"]["title"]


def test_names_phones_and_id_numbers_stay_out_by_default(world, smtp):
    run_json(str(world.exam.pk))
    texts = [world.robots.text(r) for r in world.robots.received] + [m.body + m.subject for m in smtp.mails]
    texts += list(ReminderMessage.objects.values_list("body", flat=True))
    for person in world.everybody:
        for text in texts:
            assert person.name not in text and person.phone not in text and person.id_number not in text
            assert person.staff_no not in text


def test_names_appear_only_when_asked_and_never_phones_or_id_numbers(world, smtp, settings):
    settings.REMINDER_INCLUDE_NAMES = True
    run_json(str(world.exam.pk))
    a_text = world.robots.text(world.robots.of("A")[0])
    not_sat_a = [world.a[3], world.a[4], world.a[5]]
    assert all(p.name in a_text for p in not_sat_a)
    # who sat, who is exempt, and other units' people are not named
    assert world.a[0].name not in a_text and world.a[2].name not in a_text and world.b[1].name not in a_text
    everything = [world.robots.text(r) for r in world.robots.received] + [m.body for m in smtp.mails]
    for person in world.everybody:
        assert all(person.phone not in t and person.id_number not in t for t in everything)


def test_a_second_run_in_the_same_period_skips_everything_and_sends_nothing(world, smtp):
    run_json(str(world.exam.pk))
    sent_before = (len(world.robots.received), len(smtp.mails))
    code, body = run_json(str(world.exam.pk))
    assert code == 0
    assert (body["sent"], body["skipped"], body["failed"]) == (0, 5, 0)
    assert {m["status"] for m in body["messages"]} == {"skipped"}
    assert (len(world.robots.received), len(smtp.mails)) == sent_before
    assert ReminderMessage.objects.count() == 5


def test_the_next_week_is_a_new_period(world, smtp):
    today = timezone.localdate()
    first = remind_not_sat(exam_id=world.exam.pk, today=today)
    second = remind_not_sat(exam_id=world.exam.pk, today=today + dt.timedelta(days=7))
    assert first.period != second.period
    assert second.count("sent") == 5
    assert ReminderMessage.objects.count() == 10


def test_force_sends_again_as_rows_of_their_own(world, smtp):
    run_json(str(world.exam.pk))
    code, body = run_json(str(world.exam.pk), "--force")
    assert code == 0 and body["sent"] == 5
    assert len(world.robots.of("A")) == 2 and len(smtp.mails) == 4
    assert ReminderMessage.objects.filter(forced=True, status=MessageStatus.SENT).count() == 5
    # a forced send does not open the period again: the next regular run still skips
    _, again = run_json(str(world.exam.pk))
    assert again["skipped"] == 5


def test_dry_run_sends_nothing_records_nothing_and_reports_would_send(world, smtp):
    code, body = run_json(str(world.exam.pk), "--dry-run")
    assert code == 0
    assert {m["status"] for m in body["messages"]} == {"would_send"} and len(body["messages"]) == 5
    assert body["sent"] == 0 and body["would_send"] == 5
    assert ReminderMessage.objects.count() == 0
    assert world.robots.received == [] and smtp.mails == []
    # after a real run, a dry run reports what is already sent as skipped
    run_json(str(world.exam.pk))
    _, body = run_json(str(world.exam.pk), "--dry-run")
    assert {m["status"] for m in body["messages"]} == {"skipped"}


def test_unit_keeps_to_the_recipients_in_that_subtree(world, smtp):
    code, body = run_json(str(world.exam.pk), "--unit", "T")
    assert code == 0
    assert set(by_recipient(body)) == {("T", "email")}
    assert world.robots.received == [] and [m.recipients for m in smtp.mails] == [["liaison.t@example.gov.cn"]]
    code, _, err = run(str(world.exam.pk), "--unit", "NOPE")
    assert code == 1 and err.strip() == "错误：单位代码不存在：NOPE"


def test_a_recipient_whose_subtree_has_nobody_left_gets_nothing(world, smtp):
    # everybody of B sits: B's robot gets nothing, the district's count drops by B's three
    from exams.imports import exam_import_create, exam_import_run
    from sheets.models import ImportKind
    from tests.helpers import csv_bytes
    from tests.reminders.conftest import RESULT_HEADER

    rows = [[p.name, p.staff_no, "", "", 75, ""] for p in world.b[1:]]
    exam_import_run(record=exam_import_create(exam=world.exam, kind=ImportKind.EXAM_RESULTS,
                                              file=csv_bytes(rows, header=RESULT_HEADER), file_name="more.csv"))
    _, body = run_json(str(world.exam.pk))
    messages = by_recipient(body)
    assert ("B", "dingtalk") not in messages and messages[("D", "wecom")]["not_sat"] == 5
    assert "司法局" not in world.robots.text(world.robots.of("D")[0])


def test_a_refusing_channel_fails_alone_and_the_command_exits_1(world, smtp):
    world.robots.modes["A"] = ERRCODE
    world.robots.modes["B"] = HTTP_500
    smtp.refuse.add("liaison.t@example.gov.cn")
    code, body = run_json(str(world.exam.pk))
    assert code == 1
    messages = by_recipient(body)
    assert messages[("A", "wecom")]["status"] == "failed"
    assert messages[("A", "wecom")]["error"] == "errcode 93000：invalid webhook url"
    assert messages[("B", "dingtalk")]["error"] == "HTTP 500"
    assert messages[("T", "email")]["status"] == "failed" and "550" in messages[("T", "email")]["error"]
    assert messages[("D", "wecom")]["status"] == "sent" and messages[("A", "email")]["status"] == "sent"
    assert (body["sent"], body["failed"]) == (2, 3)
    row = ReminderMessage.objects.get(unit__code="A", channel="wecom")
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.FAILED, 1, "errcode 93000：invalid webhook url")
    assert row.next_attempt_at is not None and row.sent_at is None


def test_a_failed_message_is_not_skipped_a_manual_run_retries_it_at_once(world, smtp):
    world.robots.modes["A"] = ERRCODE
    assert run_json(str(world.exam.pk))[0] == 1
    world.robots.modes["A"] = "ok"
    code, body = run_json(str(world.exam.pk))
    assert code == 0
    messages = by_recipient(body)
    assert messages[("A", "wecom")]["status"] == "sent"
    assert {m["status"] for k, m in messages.items() if k != ("A", "wecom")} == {"skipped"}
    row = ReminderMessage.objects.get(unit__code="A", channel="wecom")
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.SENT, 2, "")
    assert len(world.robots.of("A")) == 2 and len(world.robots.of("D")) == 1


def test_a_hanging_channel_times_out_and_never_stops_the_others(world, smtp, settings):
    settings.REMINDER_TIMEOUT_SECONDS = 1
    world.robots.modes["D"] = HANG
    code, body = run_json(str(world.exam.pk))
    assert code == 1
    messages = by_recipient(body)
    assert messages[("D", "wecom")]["status"] == "failed" and "超时" in messages[("D", "wecom")]["error"]
    assert all(m["status"] == "sent" for k, m in messages.items() if k != ("D", "wecom"))


def test_a_wrong_dingtalk_secret_is_refused_by_the_robot(world, smtp):
    world.robots.secrets["B"] = "SECsomethingelse"
    _, body = run_json(str(world.exam.pk))
    assert by_recipient(body)[("B", "dingtalk")]["error"] == "errcode 310000：sign not match"
    assert world.robots.of("B")[0].sign_ok is False


def test_a_closed_or_unknown_exam_is_one_chinese_line_and_exit_1(world, smtp):
    code, out, err = run("999999")
    assert code == 1 and out == "" and err.strip() == "错误：考试不存在：编号 999999。"
    code, out, err = run("abc")
    assert code == 1 and "考试编号应为整数" in err
    world.exam.closes_on = timezone.localdate() - dt.timedelta(days=1)
    world.exam.opens_on = world.exam.closes_on - dt.timedelta(days=10)
    world.exam.save()
    code, out, err = run(str(world.exam.pk))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "考试已截止" in err
    assert ReminderMessage.objects.count() == 0 and world.robots.received == []


def test_the_text_output_lists_each_message_and_a_summary(world, smtp):
    code, out, _ = run(str(world.exam.pk))
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 6 and lines[-1].endswith("已发送 5 条，跳过 0 条，失败 0 条。")
    assert lines[0].startswith("D\t企业微信群机器人\t127.0.0.1")


def test_an_inactive_liaison_or_one_without_email_gets_nothing(world, smtp):
    world.liaisons["A"].email = ""
    world.liaisons["A"].save()
    world.liaisons["T"].is_active = False
    world.liaisons["T"].save()
    _, body = run_json(str(world.exam.pk))
    assert {m["channel"] for m in body["messages"]} == {"wecom", "dingtalk"}


def test_the_figures_are_the_exams_selectors(world, smtp):
    """The digest's count for a unit is exam_stats' not_sat for its subtree, whatever moved."""
    from exams.selectors import exam_stats
    from roster.models import Unit

    Staff.objects.filter(staff_no=world.a[5].staff_no).update(unit=Unit.objects.get(code="S1"),
                                                              updated_at=timezone.now())
    _, body = run_json(str(world.exam.pk))
    for m in body["messages"]:
        assert m["not_sat"] == exam_stats(exam=world.exam, unit=Unit.objects.get(code=m["unit"]))["not_sat"]
    assert ("E", "email") in by_recipient(body)  # E now has somebody to chase
