from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exams.enrolment import exams_refresh_open
from exams.selectors import exam_not_sat, not_sat_entries
from roster.models import Unit
from tests.helpers import people, run_command

from .conftest import exemption_row, import_exemptions, import_results, result_row, results_file, sync

pytestmark = pytest.mark.django_db

KEYS = ["staff_no", "name", "unit_code", "unit_name", "position", "phone"]


@pytest.fixture
def progress(exam, staff):
    """0001 sat, 0002 exempt, 0003 left before the window closed; everybody else has not sat."""
    import_results(exam, results_file([result_row(staff["0001"], 80)]))
    import_exemptions(exam, [exemption_row(staff["0002"])])
    sync([p for no, p in staff.items() if no != "0003"])
    exams_refresh_open()
    return exam


def listed(outcome) -> list[str]:
    return [entry["staff_no"] for entry in json.loads(outcome.out)]


def test_lists_expected_candidates_without_an_attempt_by_unit_then_staff_no(progress):
    outcome = run_command("not_sat", progress.pk, "--format", "json")
    assert outcome.code == 0
    # by unit in the tree order (A, B, T > T1, E > S1: sort order within each parent), then staff number
    assert listed(outcome) == ["0004", "0005", "0006", "0101", "0102", "0103", "0201", "0202", "0203", "0204", "0301", "0302"]
    first = json.loads(outcome.out)[0]
    assert list(first) == KEYS
    assert first == {"staff_no": "0004", "name": "财政4", "unit_code": "A", "unit_name": "测试区财政局",
                     "position": "科员", "phone": "13900000004"}


def test_unit_option_covers_the_unit_and_all_its_sub_units(progress):
    assert listed(run_command("not_sat", progress.pk, "--unit", "T", "--format", "json")) == ["0201", "0202", "0203", "0204"]
    assert listed(run_command("not_sat", progress.pk, "--unit", "T1", "--format", "json")) == ["0201", "0202", "0203", "0204"]
    assert listed(run_command("not_sat", progress.pk, "--unit", "B", "--format", "json")) == ["0101", "0102", "0103"]


def test_table_is_the_default_format(progress):
    outcome = run_command("not_sat", progress.pk, "--unit", "B")
    lines = outcome.out.splitlines()
    assert lines[0].split() == ["工号", "姓名", "单位代码", "单位名称", "职务", "手机号"]
    assert lines[2].split()[:3] == ["0101", "司法1", "B"]
    assert "共 3 人未参考" in outcome.out


def test_csv_has_a_header_of_the_entry_keys(progress, tmp_path):
    outcome = run_command("not_sat", progress.pk, "--unit", "B", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(outcome.out)))
    assert list(rows[0]) == KEYS and [r["staff_no"] for r in rows] == ["0101", "0102", "0103"]
    target = tmp_path / "未参考.csv"
    assert run_command("not_sat", progress.pk, "--format", "csv", "-o", target).code == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")


def test_xlsx_needs_an_output_file(progress, tmp_path):
    refused = run_command("not_sat", progress.pk, "--format", "xlsx")
    assert refused.code == 1 and "-o" in refused.err
    target = tmp_path / "未参考.xlsx"
    assert run_command("not_sat", progress.pk, "--unit", "A", "--format", "xlsx", "-o", target).code == 0
    from openpyxl import load_workbook

    sheet = load_workbook(target).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["工号", "姓名", "单位代码", "单位名称", "职务", "手机号"]
    assert [row[0] for row in values[1:]] == ["0004", "0005", "0006"]


def test_json_to_a_file(progress, tmp_path):
    target = tmp_path / "list.json"
    run_command("not_sat", progress.pk, "--format", "json", "-o", target)
    assert len(json.loads(target.read_text(encoding="utf-8"))) == 12


def test_a_list_written_to_a_file_is_audited_and_one_on_the_screen_is_not(progress, tmp_path):
    from audit.models import AuditAction, AuditEvent

    assert run_command("not_sat", progress.pk, "--unit", "B", "--format", "csv").code == 0
    assert not AuditEvent.objects.exists()
    target = tmp_path / "未参考.xlsx"
    assert run_command("not_sat", progress.pk, "--unit", "B", "--format", "xlsx", "-o", target).code == 0
    audit = AuditEvent.objects.get()
    assert (audit.action, audit.target, audit.rows) == (AuditAction.EXPORT, f"exam:{progress.pk}:not_sat:B", 3)
    assert audit.user is None and audit.username.startswith("命令行:")
    assert audit.reason == "命令行导出未参考人员名单（xlsx，未参考.xlsx）"


def test_unknown_format_is_refused(progress):
    outcome = run_command("not_sat", progress.pk, "--format", "pdf")
    assert outcome.code == 1 and "输出格式" in outcome.err


def test_listing_is_one_query_whatever_the_number_of_rows(progress, django_assert_num_queries):
    unit = Unit.objects.get(code="A")
    with django_assert_num_queries(1):
        entries = not_sat_entries(exam_not_sat(exam=progress, unit=unit))
    assert len(entries) == 3


def test_the_command_query_count_does_not_grow_with_the_rows(progress, staff):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert run_command("not_sat", progress.pk, "--unit", "D", "--format", "json").code == 0
        return len(queries)

    few = count_queries()
    remaining = [p for no, p in staff.items() if no != "0003"]
    sync([*remaining, *people(120, "S1", start=5000)])  # 120 joiners, none of whom has sat
    exams_refresh_open()
    many = count_queries()
    assert len(listed(run_command("not_sat", progress.pk, "--format", "json"))) == 132
    # exam, unit, the roster-change check, the list: the same five queries for 12 rows or 132
    assert many == few == 5
