"""「学时未达标」 in the browser: the legal-affairs office opens it from the menu, filters by year
and unit, downloads the list as CSV and Excel (each audited); a liaison sees their own subtree
only and another unit's list answers 404."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import AuditEvent
from roster.models import Staff, Unit
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import Person, csv_bytes, new_id
from training.attendance import attendance_record
from training.events import training_event_create
from training.targets import training_target_set

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_office_filters_and_downloads_the_hours_below_list(browser, units, make_user):
    finance = [Person(f"A{i:03d}", f"财政{i}", new_id(), "A") for i in range(1, 5)]
    justice = [Person(f"B{i:03d}", f"司法{i}", new_id(), "B") for i in range(1, 4)]
    assert roster_sync(sync=roster_sync_create(file=csv_bytes(finance + justice), file_name="r.csv")).applied
    year = timezone.localdate().year
    # A001 has 36 hours this year; B's people are 工勤, who need 0
    event = training_event_create(title="执法培训", kind="enforcement_training", date=dt.date(year, 1, 10), hours="36",
                                  organiser=Unit.objects.get(code="A"))
    attendance_record(event=event, staff_ids=[Staff.objects.get(staff_no="A001").pk], status="present")
    Staff.objects.filter(unit__code="B").update(category="工勤")
    training_target_set(year=year, category="工勤", hours="0")
    make_user("legal", "legal_office")
    make_user("liaison_b", "liaison", "B")

    browser.login("legal")
    menu = [a for a in browser.find_all("nav a") if a.text == "学时未达标"]
    assert menu, "the menu offers 学时未达标"
    menu[0].click()
    browser.wait_for(lambda: browser.path.startswith("/training/hours-below/"))
    # the whole district: everyone of A (below 40), nobody of B (工勤: 0)
    rows = [r.find_elements("css selector", "td")[0].text for r in browser.find_all("#hours-below tbody tr")]
    assert sorted(rows) == ["A001", "A002", "A003", "A004"]
    browser.screenshot("district")

    # last year: nobody had any hours; B's 工勤 target is for this year only
    from selenium.webdriver.support.ui import Select

    Select(browser.find("#year-pick")).select_by_value(str(year - 1))
    Select(browser.find("#unit-pick")).select_by_value("B")
    browser.submit("#apply")
    assert browser.path == f"/training/hours-below/?year={year - 1}&unit=B"
    assert "3 人" in browser.text("#title")
    Select(browser.find("#year-pick")).select_by_value(str(year))
    Select(browser.find("#unit-pick")).select_by_value("A")
    browser.submit("#apply")
    assert "4 人" in browser.text("#title")
    cells = {r.find_elements("css selector", "td")[0].text: r.find_elements("css selector", "td")[6].text
             for r in browser.find_all("#hours-below tbody tr")}
    assert cells["A001"] == "4" and cells["A002"] == "40"
    browser.screenshot("filtered")

    browser.find("#download-csv").click()
    with open(browser.wait_for_download(".csv"), encoding="utf-8-sig") as handle:
        table = list(csv.reader(handle))
    assert table[0][:2] == ["工号", "姓名"] and sorted(r[0] for r in table[1:]) == ["A001", "A002", "A003", "A004"]
    browser.find("#download-xlsx").click()
    sheet = load_workbook(browser.wait_for_download(".xlsx")).active
    values = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert {"A001", "A002", "A003", "A004"} <= set(values)
    assert browser.wait_for(lambda: AuditEvent.objects.filter(target=f"training:{year}:hours_below:A").count() == 2)

    # a liaison: their own subtree, and 404 for another unit
    browser.driver.delete_all_cookies()
    browser.login("liaison_b")
    browser.go(f"/training/hours-below/?year={year - 1}")
    assert sorted(r.find_elements("css selector", "td")[0].text for r in browser.find_all("#hours-below tbody tr")) == [
        "B001", "B002", "B003"]
    browser.go("/training/hours-below/?unit=A")
    assert "404" in browser.driver.title or "不存在" in browser.text("body")
    browser.screenshot("liaison-other-unit")
