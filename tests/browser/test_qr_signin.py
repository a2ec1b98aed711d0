"""The QR sign-in page on a phone (390×844), and the code projected full-screen."""

from __future__ import annotations

import pytest
from django.utils import timezone

from roster.sync import roster_sync, roster_sync_create
from tests.helpers import csv_bytes, people
from training import rotation
from training.events import training_event_create
from training.models import Attendance, AttendanceSource, TrainingKind

from .conftest import DESKTOP, PHONE, fits_width

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_staff_member_signs_in_on_a_phone_sized_screen(browser, units, make_user, settings):
    settings.SIGNIN_ROTATE_SECONDS = 5  # the shortest period, so that the test sees a rotation
    staff = people(3, "A")
    assert roster_sync(sync=roster_sync_create(file=csv_bytes(staff), file_name="r.csv")).applied
    event = training_event_create(
        title="法治讲座：行政复议实务", kind=TrainingKind.LECTURE, date=timezone.localdate(), hours="2",
        organiser=units["A"], location="区行政中心报告厅",
    )
    make_user("legal", "legal_office")

    # the organiser projects the code (office PC, 1366×768)
    browser.login("legal")
    browser.go(f"/events/{event.pk}/")
    browser.submit("#qr-link")
    qr = browser.find("#qr")
    browser.wait_for(lambda: browser.driver.execute_script("return arguments[0].naturalWidth > 0", qr),
                     message="the QR image should load")
    # the code on the screen now, and its period: a photo of it forwarded to a chat group
    forwarded_period = rotation.period_of()
    forwarded = rotation.code_for(event, forwarded_period)
    box = qr.rect
    # large, and the whole page (title, code, sign-in times) fits on the screen
    assert box["height"] >= 0.5 * DESKTOP[1]
    assert browser.driver.execute_script("return document.documentElement.scrollHeight") <= DESKTOP[1]
    # the code rotates: the screen shows no address that could be copied and forwarded
    assert event.signin_token not in browser.text("main") and "秒更换一次" in browser.text("main")
    first = qr.get_attribute("src")
    browser.wait_for(lambda: browser.find("#qr").get_attribute("src") != first, timeout=12,
                     message="the projected code should reload itself each period")
    assert "每 5 秒" in browser.text("main")
    browser.screenshot("projected-code")

    # a member of staff scans it with a phone
    browser.driver.delete_all_cookies()
    browser.viewport(*PHONE, mobile=True)
    browser.go(f"/signin/{event.signin_token}/?c={rotation.current_code(event)}")
    assert "法治讲座：行政复议实务" in browser.text("h1")
    assert fits_width(browser)
    button = browser.find("button[type=submit]")
    assert button.rect["width"] >= 0.8 * (PHONE[0] - 40) and button.rect["y"] < PHONE[1]
    browser.screenshot("phone-form")

    browser.find("#who").send_keys(staff[1].staff_no)
    browser.find("#id_last4").send_keys("0000" if staff[1].id_number[-4:] != "0000" else "1111")
    browser.submit("button[type=submit]")
    assert "不正确" in browser.text("[role=alert]")
    browser.screenshot("phone-wrong-digits")

    browser.find("#id_last4").send_keys(staff[1].id_number[-4:])
    browser.submit("button[type=submit]")
    assert "签到成功" in browser.text("main")
    assert fits_width(browser)
    browser.screenshot("phone-signed-in")
    attendance = Attendance.objects.get()
    assert attendance.staff.staff_no == staff[1].staff_no and attendance.source == AttendanceSource.QR

    # the forwarded picture, opened at home two periods later, is refused, and so is the bare link
    browser.driver.delete_all_cookies()
    browser.wait_for(lambda: rotation.period_of() >= forwarded_period + rotation.ACCEPTED_PERIODS, timeout=15,
                     message="two periods should pass")
    browser.go(f"/signin/{event.signin_token}/?c={forwarded}")
    assert "二维码已过期" in browser.text("main") and "每 5 秒" in browser.text("main")
    assert not browser.find_all("#who") and not browser.find_all("button[type=submit]")
    browser.screenshot("phone-code-two-periods-old")
    browser.go(f"/signin/{event.signin_token}/")
    assert "二维码已过期" in browser.text("main")
    assert Attendance.objects.count() == 1
