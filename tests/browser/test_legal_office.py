"""The legal-affairs office uploads results, sees the conflicts table, confirms, opens the
annual report page and downloads the Word file."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from docx import Document

from exams.creation import exam_create
from exams.models import Attempt, ExamKind
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import Person, csv_bytes, new_id, people

from .conftest import DESKTOP, PHONE, fits_width

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_office_imports_results_sees_the_conflicts_and_downloads_the_annual_report(
    browser, units, make_user, tmp_path
):
    staff = people(6, "A") + people(4, "B", start=101)
    assert roster_sync(sync=roster_sync_create(file=csv_bytes(staff), file_name="r.csv")).applied
    today = timezone.localdate()
    exam = exam_create(name="学法用法考试", year=today.year, kind=ExamKind.ANNUAL_LAW,
                       opens_on=today - dt.timedelta(days=20), closes_on=today + dt.timedelta(days=20))
    make_user("legal", "legal_office")
    outsider = Person("9999", "外单位", new_id(), "A")
    results = tmp_path / "成绩.csv"
    results.write_bytes(csv_bytes([
        [staff[0].name, staff[0].staff_no, "", "92"],
        [staff[1].name, staff[1].staff_no, "", "55"],
        ["张冠李戴", staff[2].staff_no, "", "81"],  # the name is not 0003's: a conflict
        [outsider.name, "", outsider.id_number, "70"],  # not on the roster
        [staff[6].name, staff[6].staff_no, "", "88"],
    ], header=["姓名", "工号", "身份证号", "考试成绩"]))

    browser.login("legal")
    assert browser.path == "/exams/"
    browser.screenshot("exams")
    browser.go(f"/exams/{exam.pk}/")
    browser.find("#id_results-file").send_keys(str(results))
    browser.submit("#upload-results button[type=submit]")
    browser.wait_for(lambda: browser.find_all("#confirm-button"), message="the dry run should pass")
    assert "信息冲突（1）" in browser.text("#problem-tabs")
    browser.screenshot("dry-run-problems")

    browser.submit("#problem-tabs a[data-kind=conflict]")
    rows = browser.find_all("#problems tbody tr")
    assert len(rows) == 1
    cells = [c.text for c in rows[0].find_elements("css selector", "td")]
    assert cells[0] == "4" and cells[1] == "信息冲突" and cells[2] == "姓名"
    assert outsider.id_number not in browser.text()
    browser.screenshot("conflicts-table")
    assert not Attempt.objects.exists()

    browser.submit("#confirm-button")
    browser.wait_for(lambda: browser.find("#progress").get_attribute("aria-valuenow") == "100")
    assert "成绩导入完成" in browser.text("#outcome")
    assert Attempt.objects.count() == 3
    browser.screenshot("imported")
    browser.viewport(*PHONE, mobile=True)
    assert fits_width(browser)
    browser.screenshot("imported-phone")
    browser.viewport(*DESKTOP)

    # the annual report: the paragraph and the tables on the page, then the Word file
    browser.submit("nav a[href='/reports/annual/']")
    assert browser.path == "/reports/annual/"
    narrative = browser.text("#narrative")
    assert str(today.year) in browser.text("h1") and "学法用法考试" in narrative
    table = browser.text(f"#exam-{exam.pk}")
    assert "测试区财政局" in table and "参考率" in table
    assert "参训人次" in browser.text("#training-table")
    browser.screenshot("annual-report")
    browser.find("#download-docx").click()
    document = Document(browser.wait_for_download(".docx"))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "学法用法" in text and str(today.year) in text
    assert document.tables, "the Word report holds the per-unit tables"
    browser.viewport(*PHONE, mobile=True)
    assert fits_width(browser)
    browser.screenshot("annual-report-phone")
