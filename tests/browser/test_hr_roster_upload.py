"""HR uploads a roster with a bad row, sees the error with its row number, fixes nothing, then
uploads a good file, confirms, and watches the progress bar finish."""

from __future__ import annotations

import pytest

from roster.models import Staff
from tests.helpers import csv_bytes, people, xlsx_bytes

from .conftest import PHONE, fits_width

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BAD_ROW = ["0099", "坏行", "123456", "A", "科员", "否", "", ""]


def test_hr_sees_the_bad_row_then_syncs_a_good_file_and_watches_it_finish(browser, units, make_user, tmp_path):
    make_user("hr", "hr")
    bad = tmp_path / "名册-有错.csv"
    bad.write_bytes(csv_bytes([*people(3), BAD_ROW]))
    good = tmp_path / "名册.xlsx"
    good.write_bytes(xlsx_bytes(people(12)))

    browser.login("hr")
    assert browser.path == "/roster/"
    assert "上传名册" in browser.text("main")
    browser.screenshot("upload-form")

    browser.find("#id_file").send_keys(str(bad))
    browser.submit("#roster-upload button[type=submit]")
    assert browser.path.startswith("/roster/syncs/")
    browser.wait_for(lambda: "同步被拒绝" in browser.text("#outcome"))
    rows = browser.find_all("#problems tbody tr")
    assert rows and all(row.find_elements("css selector", "td")[0].text == "5" for row in rows)
    assert "身份证号" in browser.text("#problems")
    assert not browser.find_all("#confirm-button")
    browser.screenshot("bad-row-refused")

    browser.go("/roster/")
    browser.find("#id_file").send_keys(str(good))
    browser.submit("#roster-upload button[type=submit]")
    browser.wait_for(lambda: browser.find_all("#confirm-button"), message="the dry run should pass")
    assert "试运行通过" in browser.text("#confirm")
    assert "0001" in browser.text("#preview-created")
    assert Staff.objects.count() == 0
    browser.screenshot("dry-run-preview")

    browser.submit("#confirm-button")
    progress = browser.find("#progress")
    browser.wait_for(lambda: browser.find("#progress").get_attribute("aria-valuenow") == "100",
                     message="the progress bar should reach 100%")
    assert "100%" in browser.text("#progress")
    browser.wait_for(lambda: "已完成" in browser.text("[data-progress-status]"))
    assert "同步完成" in browser.text("#outcome")
    assert progress is not None and Staff.objects.count() == 12
    browser.screenshot("sync-finished")

    browser.go("/roster/")
    history = browser.text("#syncs")
    assert "名册.xlsx" in history and "名册-有错.csv" in history and "已拒绝" in history
    browser.screenshot("history-desktop")
    browser.viewport(*PHONE, mobile=True)
    browser.go("/roster/")
    assert fits_width(browser)
    browser.screenshot("history-phone")
