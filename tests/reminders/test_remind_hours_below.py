"""remind_hours_below: the same machinery for the people below the year's required hours;
``not_sat`` holds the number below, as training's ``hours_below`` counts it."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from roster.models import Staff, Unit
from training.attendance import attendance_record
from training.events import training_event_create
from training.models import StudyHoursRequirement, TrainingKind
from training.selectors import hours_below

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, dict | str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("remind_hours_below", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    text = out.getvalue()
    return code, json.loads(text) if "--json" in args else text + err.getvalue()


@pytest.fixture
def hours(world):
    year = timezone.localdate().year
    StudyHoursRequirement.objects.create(year=year, hours=4)
    event = training_event_create(title="宪法讲座", kind=TrainingKind.LECTURE, date=timezone.localdate(), hours="4",
                                  organiser=Unit.objects.get(code="D"))
    ids = dict(Staff.objects.values_list("staff_no", "id"))
    # A: 0001, 0002 have their hours; B: nobody; T1: 0201
    attendance_record(event=event, staff_ids=[ids[p.staff_no] for p in (world.a[0], world.a[1], world.t1[0])],
                      status="present")
    return year


def test_the_digest_counts_the_people_below_the_hours(world, smtp, hours, settings):
    code, body = run(str(hours), "--json")
    assert code == 0
    assert {"exam_id", "year", "period", "sent", "skipped", "failed", "messages"} <= set(body)
    assert body["exam_id"] is None and body["year"] == hours
    counts = {(m["unit"], m["channel"]): m["not_sat"] for m in body["messages"]}
    assert counts == {("D", "wecom"): 10, ("A", "email"): 4, ("A", "wecom"): 4, ("B", "dingtalk"): 4,
                      ("T", "email"): 2}
    for (code_, _), n in counts.items():
        assert n == hours_below(year=hours, unit=Unit.objects.get(code=code_)).count()
    text = world.robots.text(world.robots.of("D")[0])
    assert f"{hours} 年度学时未达标提醒" in text and "**年度要求**：4 学时" in text
    assert "**在册**：13 人，**学时未达标**：10 人" in text and "- 测试区财政局：4 人" in text
    assert "https://legal.example.gov.cn/units/D/" in text
    assert all(p.name not in text for p in world.everybody)
    # its own subject: the exam's digest of the same week is not skipped because of it
    _, again = run(str(hours), "--json")
    assert again["skipped"] == 5


def test_dry_run_and_unit(world, smtp, hours):
    code, body = run(str(hours), "--unit", "A", "--dry-run", "--json")
    assert code == 0 and {(m["unit"], m["status"]) for m in body["messages"]} == {("A", "would_send")}
    assert world.robots.received == [] and smtp.mails == []


def test_a_year_that_is_not_one_is_refused(world):
    code, text = run("20x5")
    assert code == 1 and "年度“20x5”无效" in text
