"""staff_record and learning_file: the contract's options, bad input in one Chinese line with
exit 1, and every file they write audited."""

from __future__ import annotations

import json

import pytest
from docx import Document
from openpyxl import load_workbook

from audit.models import AuditEvent
from tests.helpers import run_command

pytestmark = pytest.mark.django_db


def test_staff_record_prints_the_json_record(district):
    outcome = run_command("staff_record", "0211")
    assert outcome.code == 0, outcome.err
    record = json.loads(outcome.out)
    assert record["staff_no"] == "0211" and [e["best_score"] for e in record["years"][0]["exams"]] == [75]
    # printed to the terminal: not a file, not audited
    assert not AuditEvent.objects.exists()


def test_staff_record_of_one_year(last_year):
    outcome = run_command("staff_record", "1001", "--year", last_year.year)
    assert [y["year"] for y in outcome.json()["years"]] == [last_year.year]


@pytest.mark.parametrize("fmt", ["docx", "xlsx", "json"])
def test_staff_record_writes_a_file_and_audits_it(district, tmp_path, fmt):
    target = tmp_path / f"record.{fmt}"
    outcome = run_command("staff_record", "0002", "--format", fmt, "-o", target)
    assert outcome.code == 0, outcome.err
    if fmt == "docx":
        assert "姓名：甲二　工号：0002　单位：测试区司法局" in [p.text for p in Document(target).paragraphs]
    elif fmt == "xlsx":
        book = load_workbook(target)
        assert book.sheetnames == ["年度汇总", "培训记录", "考试记录"]
        assert [c.value for c in book["培训记录"][3]][2:5] == ["讲座二", "法治讲座", "测试区司法局"]
    else:
        assert json.loads(target.read_text(encoding="utf-8"))["staff_no"] == "0002"
    audit = AuditEvent.objects.get()
    # one year, two attendances, one exam
    assert (audit.action, audit.target, audit.rows, audit.user) == ("export", "staff:0002:record", 4, None)
    assert audit.username.startswith("命令行:") and fmt in audit.reason


def test_staff_record_refuses_bad_input_in_one_line(district, tmp_path):
    unknown = run_command("staff_record", "9999")
    assert (unknown.code, unknown.err.strip()) == (1, "错误：工号“9999”不存在。")
    for year in ("1999", "2101", "twenty"):
        outcome = run_command("staff_record", "0001", "--year", year)
        assert outcome.code == 1 and "年度" in outcome.err and "Traceback" not in outcome.err
    for fmt in ("docx", "xlsx"):
        outcome = run_command("staff_record", "0001", "--format", fmt)
        assert (outcome.code, outcome.err.strip()) == (1, f"错误：{fmt} 格式需要用 -o 指定输出文件。")
    assert run_command("staff_record", "0001", "--format", "pdf", "-o", tmp_path / "x.pdf").code == 1
    missing_folder = run_command("staff_record", "0001", "--format", "docx", "-o", tmp_path / "no" / "x.docx")
    assert missing_folder.code == 1 and "不存在" in missing_folder.err
    assert not AuditEvent.objects.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_learning_file_writes_the_unit_file_and_audits_it(district, tmp_path, fmt):
    target = tmp_path / f"file.{fmt}"
    outcome = run_command("learning_file", district.year, "--unit", "t", "--format", fmt, "-o", target)
    assert outcome.code == 0, outcome.err
    assert "测试镇" in outcome.err and "3 人" in outcome.err
    if fmt == "xlsx":
        assert [r[0] for r in load_workbook(target)["汇总"].iter_rows(min_row=2, values_only=True)] == [
            "0201", "0211", "0212"]
    else:
        assert sum(p.text == f"测试镇{district.year}年度学法档案" for p in Document(target).paragraphs) == 3
    audit = AuditEvent.objects.get()
    assert (audit.target, audit.rows) == (f"unit:T:learning_file:{district.year}", 3)


def test_learning_file_without_a_unit_is_the_district(district, tmp_path):
    target = tmp_path / "all.xlsx"
    assert run_command("learning_file", district.year, "--format", "xlsx", "-o", target).code == 0
    assert load_workbook(target)["汇总"].max_row == 1 + 9


def test_learning_file_refuses_bad_input(district, tmp_path):
    target = tmp_path / "x.xlsx"
    cases = [
        (("learning_file", district.year, "--format", "xlsx"), "错误：xlsx 格式需要用 -o 指定输出文件。"),
        (("learning_file", district.year, "--format", "docx"), "错误：docx 格式需要用 -o 指定输出文件。"),
        (("learning_file", district.year, "-o", target), "错误：请用 --format 指定 xlsx 或 docx。"),
        (("learning_file", district.year, "--format", "csv", "-o", target), "错误：格式“csv”无效，应为 xlsx / docx 之一。"),
        (("learning_file", 1999, "--format", "xlsx", "-o", target), "错误：年度“1999”无效，应在 2000 到 2100 之间。"),
        (("learning_file", district.year, "--unit", "NOPE", "--format", "xlsx", "-o", target),
         "错误：单位代码“NOPE”不存在。"),
    ]
    for args, message in cases:
        outcome = run_command(*args)
        assert (outcome.code, outcome.err.strip()) == (1, message), args
    assert not AuditEvent.objects.exists() and list(tmp_path.iterdir()) == []
