"""HR uploads a roster for a dry run, opens the full diff (every change, old → new), pages
through it, filters it by kind and by unit, and downloads it as Excel: what HR approves before
「确认同步」 (issue 20)."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from audit.models import AuditEvent
from roster.models import Staff
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import people, xlsx_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _select(browser, name: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(browser.find(f"#changes-filter select[name={name}]")).select_by_value(value)


def test_hr_pages_filters_and_downloads_the_full_diff_of_a_dry_run(browser, units, make_user, tmp_path):
    before = people(20, "A")
    assert roster_sync(sync=roster_sync_create(file=xlsx_bytes(before), file_name="上月.xlsx")).applied
    # the new file: three in A change post or phone, two leave, 120 arrive in B
    edited = before[:18]
    edited[0].position = "科长"
    edited[1].position = "副科长"
    edited[2].phone = "13900000003"
    arrivals = people(120, "B", start=100)
    upload = tmp_path / "名册-本月.xlsx"
    upload.write_bytes(xlsx_bytes(edited + arrivals))
    make_user("hr", "hr")

    browser.login("hr")
    browser.find("#id_file").send_keys(str(upload))
    browser.submit("#roster-upload button[type=submit]")
    browser.wait_for(lambda: browser.find_all("#confirm-button"), message="the dry run should pass")
    assert Staff.objects.count() == 20  # a dry run changes nothing
    sync_pk = int(browser.path.split("/")[3])
    browser.submit("#all-changes a")
    assert browser.path == f"/roster/syncs/{sync_pk}/changes/"
    assert "名册-本月.xlsx" in browser.text("h1")

    # 125 changes, 100 a page: two pages, the second with the rest and the two who leave
    assert "第 1 / 2 页，共 125 条" in browser.text("main")
    first_page = browser.find_all("#changes tbody tr")
    assert len(first_page) == 100
    assert "职务：科员 → 科长" in browser.text("#changes")
    browser.screenshot("first-page")
    browser.submit("a[href*='page=2']")
    assert "第 2 / 2 页" in browser.text("main")
    second_page = browser.find_all("#changes tbody tr")
    assert len(second_page) == 25
    kinds = [row.get_attribute("data-kind") for row in second_page]
    assert kinds[-2:] == ["deactivated", "deactivated"]  # no row in the file: listed last
    assert before[18].staff_no in browser.text("#changes") and before[19].staff_no in browser.text("#changes")
    browser.screenshot("second-page")

    # by kind
    _select(browser, "kind", "updated")
    browser.submit("#changes-filter button[type=submit]")
    rows = browser.find_all("#changes tbody tr")
    assert {r.get_attribute("data-kind") for r in rows} == {"updated"} and len(rows) == 3
    assert "手机号：13800000003 → 13900000003" in browser.text("#changes")
    assert not browser.find_all("a[href*='page=2']")
    browser.screenshot("only-updated")

    # by unit (its subtree), every kind
    _select(browser, "kind", "")
    _select(browser, "unit", "A")
    browser.submit("#changes-filter button[type=submit]")
    rows = browser.find_all("#changes tbody tr")
    assert len(rows) == 5 and {r.get_attribute("data-kind") for r in rows} == {"updated", "deactivated"}
    assert "测试区财政局" in browser.text("#changes") and "测试区司法局" not in browser.text("#changes")
    _select(browser, "unit", "B")
    _select(browser, "kind", "created")
    browser.submit("#changes-filter button[type=submit]")
    assert "共 120 条" in browser.text("main")
    assert "unit=B" in browser.find("#changes-download").get_attribute("href")
    browser.screenshot("created-in-b")

    # the download follows the filter: unit A, all kinds, one line per changed field
    _select(browser, "kind", "")
    _select(browser, "unit", "A")
    browser.submit("#changes-filter button[type=submit]")
    browser.find("#changes-download").click()
    sheet = load_workbook(browser.wait_for_download(".xlsx")).active
    header_row = next(r for r in range(1, 5) if sheet.cell(row=r, column=1).value == "行号")
    lines = [[c.value for c in row] for row in sheet.iter_rows(min_row=header_row + 1) if any(c.value for c in row)]
    assert [line[2] for line in lines] == [p.staff_no for p in before[:3]] + [before[18].staff_no, before[19].staff_no]
    assert lines[0][6:] == ["职务", "科员", "科长"]
    assert lines[2][6:] == ["手机号", "13800000003", "13900000003"]
    assert [line[1] for line in lines] == ["修改"] * 3 + ["停用"] * 2
    assert all(line[4] == "A" for line in lines)
    # 工号 with its leading zeros, as text
    assert sheet.cell(row=header_row + 1, column=3).data_type == "s"
    event = AuditEvent.objects.get(target=f"roster_sync:{sync_pk}:changes")
    assert event.rows == 5 and event.user.username == "hr"
    assert Staff.objects.count() == 20
