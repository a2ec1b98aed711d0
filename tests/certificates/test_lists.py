"""The list and stats commands, and the reconciliation with the roster both ways."""

from __future__ import annotations

import datetime as dt

from openpyxl import load_workbook

from certificates.selectors import certificate_stats
from roster.models import Staff
from tests.certificates.conftest import add_cert
from tests.helpers import run_command

ON = dt.date(2026, 6, 1)


def _register():
    add_cert("0201", "桂执0201", expires=ON + dt.timedelta(days=200))   # T1 valid
    add_cert("0202", "桂执0202", expires=ON + dt.timedelta(days=10))    # T1 due
    add_cert("0203", "桂执0203", expires=ON - dt.timedelta(days=1))     # T1 expired
    add_cert("0203", "桂监0203", expires=ON + dt.timedelta(days=300), kind="supervision")  # same person
    add_cert("0101", "桂执0101", expires=ON + dt.timedelta(days=300), status="suspended")  # B
    add_cert("0001", "桂执0001", expires=ON + dt.timedelta(days=300))   # A, will leave
    Staff.objects.filter(staff_no="0001").update(is_active=False)


def test_list_json_is_sorted_by_unit_then_expiry(staff):
    _register()
    outcome = run_command("certificates", "--on", ON.isoformat(), "--format", "json")
    assert outcome.code == 0, outcome.err
    data = outcome.json()
    assert data["on"] == "2026-06-01" and data["count"] == 6
    first = data["certificates"][0]
    assert set(first) == {"number", "kind", "staff_no", "name", "unit_code", "unit_name", "issued_on", "expires_on",
                          "state", "holder_left", "days_left"}
    t1 = [c for c in data["certificates"] if c["unit_code"] == "T1"]
    assert [c["number"] for c in t1] == ["桂执0203", "桂执0202", "桂执0201", "桂监0203"]
    assert [c["state"] for c in t1] == ["expired", "due", "valid", "valid"]
    assert t1[0]["days_left"] == -1 and t1[1]["days_left"] == 10


def test_list_filters_by_state_unit_and_left(staff):
    _register()
    due = run_command("certificates", "--on", "2026-06-01", "--state", "due", "--format", "json").json()
    assert [c["number"] for c in due["certificates"]] == ["桂执0202"]
    left = run_command("certificates", "--on", "2026-06-01", "--state", "left", "--format", "json").json()
    assert [(c["number"], c["holder_left"]) for c in left["certificates"]] == [("桂执0001", True)]
    town = run_command("certificates", "--on", "2026-06-01", "--unit", "T", "--format", "json").json()
    assert town["count"] == 4


def test_on_not_a_date_exits_1(staff):
    for command in ("certificates", "certificate_stats"):
        outcome = run_command(command, "--on", "2026-02-30")
        assert outcome.code == 1 and "--on" in outcome.err and "Traceback" not in outcome.err


def test_csv_and_xlsx_downloads_are_formula_safe(staff, tmp_path):
    add_cert("0201", "=HYPERLINK(1)", expires=ON)
    Staff.objects.filter(staff_no="0201").update(name="@SUM(A1)")
    csv_path, xlsx_path = tmp_path / "c.csv", tmp_path / "c.xlsx"
    assert run_command("certificates", "--format", "csv", "-o", csv_path).code == 0
    text = csv_path.read_bytes().decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and "'@SUM(A1)" in text
    assert run_command("certificates", "--format", "xlsx", "-o", xlsx_path).code == 0
    sheet = load_workbook(xlsx_path).active
    row = [c for c in sheet[2]]
    assert row[0].value == "=HYPERLINK(1)" and row[0].data_type == "s" and row[0].quotePrefix
    from audit.models import AuditEvent
    assert AuditEvent.objects.filter(action="export", target="certificates").count() == 2


def test_stats_count_people_and_roll_up_through_the_tree(staff):
    _register()
    stats = certificate_stats(on=ON)
    assert {k: stats[k] for k in ("holders", "valid", "due", "expired", "suspended", "revoked", "surrendered", "left")} \
        == {"holders": 4, "valid": 3, "due": 1, "expired": 1, "suspended": 1, "revoked": 0, "surrendered": 0, "left": 1}
    by_unit = {row["unit_code"]: row for row in stats["by_unit"]}
    assert by_unit["T1"]["holders"] == 3 and by_unit["T1"]["valid"] == 2
    assert by_unit["T"] == {**by_unit["T1"], "unit_code": "T", "unit_name": "测试镇"}
    assert by_unit["D"]["holders"] == 4 and by_unit["D"]["expired"] == 1
    assert by_unit["S1"]["holders"] == 0
    outcome = run_command("certificate_stats", "--on", "2026-06-01", "--unit", "T", "--json")
    data = outcome.json()
    assert data["holders"] == 3 and [r["unit_code"] for r in data["by_unit"]] == ["T", "T1"]


def test_reconciliation_lists_both_ways(staff):
    # roster: 0101 桂执0101, 0201..0204 桂执020x (tests/exams/conftest.district)
    add_cert("0201", "桂执0201", expires=ON)                       # agrees
    add_cert("0202", "桂执9999", expires=ON)                       # roster says 桂执0202: different
    add_cert("0301", "桂执0301", expires=ON)                       # roster empty
    add_cert("0203", "桂执0203", expires=ON, status="surrendered")  # surrendered: not a holder
    outcome = run_command("certificates_reconcile", "--json")
    assert outcome.code == 0, outcome.err
    data = outcome.json()
    assert sorted(s["staff_no"] for s in data["roster_without_certificate"]) == ["0101", "0202", "0204"]
    register = {c["number"]: c["problem"] for c in data["register_not_in_roster"]}
    assert register == {"桂执9999": "roster_different", "桂执0301": "roster_empty"}
