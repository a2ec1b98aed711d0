"""A unit liaison logs in, sees only their unit's dashboard, opens the not-sat list, sorts it,
downloads the Excel file (opened here with openpyxl) and tries another unit's URL (404)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from exams.creation import exam_create
from exams.models import Candidate, ExamKind
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import Person, csv_bytes, new_id

from .conftest import PHONE, fits_width

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_liaison_sees_their_subtree_and_downloads_the_not_sat_list(browser, units, make_user):
    # the town T (with its enforcement team T1) is the liaison's; A and B are not
    town = [Person(f"T{i:03d}", name, new_id(), unit, position=position, phone=f"1390000{i:04d}")
            for i, (name, unit, position) in enumerate([
                ("赵一", "T", "镇长"), ("钱二", "T", "科员"), ("孙三", "T1", "队长"), ("李四", "T1", "队员"),
                ("周五", "T1", "队员"), ("吴六", "T1", "队员")], start=1)]
    others = [Person(f"A{i:03d}", f"财政{i}", new_id(), "A", phone=f"1380000{i:04d}") for i in range(1, 5)]
    assert roster_sync(sync=roster_sync_create(file=csv_bytes(town + others), file_name="r.csv")).applied
    today = timezone.localdate()
    exam = exam_create(name="学法用法考试", year=today.year, kind=ExamKind.ANNUAL_LAW,
                       opens_on=today - dt.timedelta(days=20), closes_on=today + dt.timedelta(days=20))
    sat = ["T001", "T003", "A001"]
    Candidate.objects.filter(exam=exam, staff__staff_no__in=sat).update(best_score=85, attempt_count=1, passed=True)
    from reports.snapshots import snapshots_refresh

    snapshots_refresh(everything=True)
    make_user("liaison_t", "liaison", "T")

    browser.login("liaison_t")
    assert browser.path == "/units/T/"
    main = browser.text("main")
    assert "测试镇" in main and "测试镇综合执法队" in browser.text("#subunits")
    assert "测试区财政局" not in main and "测试区司法局" not in main
    assert not browser.find_all("#unit-pick")  # a liaison does not pick units
    bars = browser.find_all("#chart .b")
    assert bars and "25.0%" in browser.text("#chart")  # T1: 1 of 4 sat
    assert "统计时间" in browser.text("#computed-at")
    browser.screenshot("dashboard")

    browser.submit("#not-sat-link")
    assert browser.path == f"/exams/{exam.pk}/not-sat/T/"
    assert "未参考人员（4 人）" in browser.text("#title")
    names = [row.find_elements("css selector", "td")[0].text for row in browser.find_all("#not-sat tbody tr")]
    assert sorted(names) == sorted(["钱二", "李四", "周五", "吴六"])
    phones = {row.find_elements("css selector", "td")[0].text: row.find_elements("css selector", "td")[3].text
              for row in browser.find_all("#not-sat tbody tr")}
    assert phones["钱二"] == "13900000002"  # in full: their own subtree, as the API shows it
    browser.find("#not-sat thead th:nth-child(3)").click()  # sort by position
    positions = [row.find_elements("css selector", "td")[2].text for row in browser.find_all("#not-sat tbody tr")]
    assert positions == sorted(positions, key=lambda p: p.encode("gb18030"))
    browser.find("#not-sat thead th:nth-child(3)").click()
    descending = [row.find_elements("css selector", "td")[2].text for row in browser.find_all("#not-sat tbody tr")]
    assert descending == positions[::-1]
    browser.screenshot("not-sat-sorted")

    browser.find("#download").click()
    downloaded = browser.wait_for_download(".xlsx")
    sheet = load_workbook(downloaded).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("工号", "姓名", "单位代码", "单位名称", "职务", "手机号")
    assert sorted(r[1] for r in rows[1:]) == sorted(names)
    assert {r[0] for r in rows[1:]} == {"T002", "T004", "T005", "T006"}

    browser.viewport(*PHONE, mobile=True)
    browser.go(f"/exams/{exam.pk}/not-sat/T/")
    assert fits_width(browser)
    browser.screenshot("not-sat-phone")
    browser.go("/units/T/")
    assert fits_width(browser)
    browser.screenshot("dashboard-phone")

    browser.go(f"/exams/{exam.pk}/not-sat/A/")
    assert "页面不存在" in browser.text("main")
    browser.go("/units/B/")
    assert "页面不存在" in browser.text("main")
    browser.screenshot("other-unit-404")
