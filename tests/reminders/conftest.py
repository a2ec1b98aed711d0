"""A district with recipients for the reminder tests, the robot server and the SMTP server.

District (tests/helpers.make_units): D > A, B, T > T1, E > S1. Staff: A 6, B 4, T1 3.
The open exam: A's 0001 and 0002 sat, 0003 exempt (A: 5 expected, 3 not sat); B's 0101 sat
(B: 4 expected, 3 not sat); T1's 0201 sat (T1 and T: 3 expected, 2 not sat); D: 12 expected,
8 not sat. Recipients: liaison_a (email, A), liaison_t (email, T), liaison_e (email, E: nobody
to sit), the WeCom robot of A, the signed DingTalk robot of B, the WeCom robot of D."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from access.services import user_role_set
from exams.creation import exam_create
from exams.imports import exam_import_create, exam_import_run
from exams.models import Exam
from reminders.channels import unit_channel_set
from roster.sync import roster_sync, roster_sync_create
from sheets.models import ImportKind
from tests.helpers import PASSWORD, Person, _fast_hasher_and_clean_cache, csv_bytes, people  # noqa: F401

from .receivers import RobotServer, SmtpHandler, free_port, start_robot_server, stop_robot_server

DINGTALK_SECRET = "SEC0123456789abcdef"
RESULT_HEADER = ["姓名", "工号", "身份证号", "所在单位", "考试成绩", "交卷时间"]
EXEMPTION_HEADER = ["工号", "身份证号", "姓名", "免考原因"]


@pytest.fixture
def robots():
    server = start_robot_server()
    yield server
    stop_robot_server(server)


@pytest.fixture
def smtp(settings):
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line
    handler = SmtpHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "reminders@example.gov.cn"
    yield handler
    controller.stop()


@pytest.fixture(autouse=True)
def _reminder_settings(settings):
    settings.SITE_URL = "https://legal.example.gov.cn"
    settings.REMINDER_TIMEOUT_SECONDS = 2
    settings.REMINDER_INCLUDE_NAMES = False


@dataclass
class World:
    exam: Exam
    a: list[Person]
    b: list[Person]
    t1: list[Person]
    robots: RobotServer
    liaisons: dict[str, object]

    @property
    def everybody(self) -> list[Person]:
        return self.a + self.b + self.t1


def open_exam(name: str = "2026 年学法用法考试", closes_in: int = 10) -> Exam:
    today = timezone.localdate()
    return exam_create(name=name, year=today.year, kind="annual_law", opens_on=today - dt.timedelta(days=10),
                       closes_on=today + dt.timedelta(days=closes_in))


def exam_with_results(a: list[Person], b: list[Person], t1: list[Person], **kwargs) -> Exam:
    exam = open_exam(**kwargs)
    exempt = exam_import_run(record=exam_import_create(
        exam=exam, kind=ImportKind.EXAM_EXEMPTIONS, file=csv_bytes([[a[2].staff_no, "", a[2].name, "病假"]],
                                                                    header=EXEMPTION_HEADER), file_name="exempt.csv"))
    assert exempt.applied == 1, exempt.message
    rows = [[p.name, p.staff_no, "", "", score, ""] for p, score in ((a[0], 80), (a[1], 50), (b[0], 90), (t1[0], 70))]
    results = exam_import_run(record=exam_import_create(
        exam=exam, kind=ImportKind.EXAM_RESULTS, file=csv_bytes(rows, header=RESULT_HEADER), file_name="results.csv"))
    assert results.applied == 4, results.message
    return exam


@pytest.fixture
def world(units, robots) -> World:
    a, b, t1 = people(6, "A", start=1), people(4, "B", start=101), people(3, "T1", start=201)
    result = roster_sync(sync=roster_sync_create(file=csv_bytes(a + b + t1), file_name="roster.csv"))
    assert result.applied, result.errors
    exam = exam_with_results(a, b, t1)
    liaisons = {
        code: user_role_set(username=f"liaison_{code.lower()}", role="liaison", unit_code=code, password=PASSWORD,
                            email=f"liaison.{code.lower()}@example.gov.cn")[0].user
        for code in ("A", "T", "E")
    }
    unit_channel_set(unit_code="A", channel="wecom", url=robots.url("wecom", "A"))
    unit_channel_set(unit_code="B", channel="dingtalk", url=robots.url("dingtalk", "B"), secret=DINGTALK_SECRET)
    robots.secrets["B"] = DINGTALK_SECRET
    unit_channel_set(unit_code="D", channel="wecom", url=robots.url("wecom", "D"))
    return World(exam, a, b, t1, robots, liaisons)
