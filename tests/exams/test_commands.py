from __future__ import annotations

import datetime as dt

import pytest

from exams.models import Audience, Candidate, Exam
from tests.helpers import run_command

from .conftest import EXEMPTION_HEADER, exemption_row, result_row, results_file

pytestmark = pytest.mark.django_db

IMPORT_KEYS = {"applied", "unmatched", "conflicts", "invalid", "absent", "errors"}


def test_create_exam_prints_the_new_id_alone_on_its_last_line(staff):
    outcome = run_command("create_exam", "--name", "学法用法考试", "--year", "2026", "--kind", "annual_law")
    assert outcome.code == 0, outcome.err
    exam = Exam.objects.get(pk=int(outcome.out.strip().splitlines()[-1]))
    assert (exam.audience, exam.pass_mark, exam.max_score) == (Audience.ALL, 60, 100)
    assert (exam.opens_on, exam.closes_on) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert Candidate.objects.filter(exam=exam).count() == 15


def test_create_exam_takes_every_option(staff):
    outcome = run_command(
        "create_exam", "--name", "执法资格考试", "--year", "2025", "--kind", "enforcement_qualification",
        "--audience", "heads", "--pass-mark", "72.5", "--max-score", "120", "--opens", "2025-10-01", "--closes", "2025-10-31",
    )
    exam = Exam.objects.get(pk=int(outcome.out.strip().splitlines()[-1]))
    assert (exam.audience, float(exam.pass_mark), float(exam.max_score)) == ("heads", 72.5, 120.0)
    assert (exam.opens_on, exam.closes_on) == (dt.date(2025, 10, 1), dt.date(2025, 10, 31))


def test_enforcement_exams_default_to_the_enforcement_audience(staff):
    outcome = run_command("create_exam", "--name", "续职", "--year", "2026", "--kind", "enforcement_renewal")
    assert Exam.objects.get(pk=int(outcome.out.split()[-1])).audience == Audience.ENFORCEMENT


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "quiz"], "考试类型"),
        (["--kind", "annual_law", "--audience", "everyone"], "应考范围"),
        (["--kind", "annual_law", "--pass-mark", "120"], "合格分数线"),
        (["--kind", "annual_law", "--max-score", "abc"], "满分"),
        (["--kind", "annual_law", "--opens", "2026-13-01"], "开考日期"),
        (["--kind", "annual_law", "--opens", "2026-06-01", "--closes", "2026-05-01"], "不能晚于"),
    ],
)
def test_create_exam_refuses_bad_options_in_one_chinese_line(staff, args, message):
    outcome = run_command("create_exam", "--name", "考试", "--year", "2026", *args)
    assert outcome.code == 1 and message in outcome.err
    assert "Traceback" not in outcome.err and not Exam.objects.exists()


def test_create_exam_refuses_a_duplicate(staff):
    args = ("create_exam", "--name", "学法用法考试", "--year", "2026", "--kind", "annual_law")
    run_command(*args)
    again = run_command(*args)
    assert again.code == 1 and "已有同名考试" in again.err and Exam.objects.count() == 1


def test_import_results_json_has_the_contract_keys_and_exits_0_with_problems(exam, staff, tmp_path):
    path = tmp_path / "成绩.csv"
    path.write_bytes(results_file([result_row(staff["0001"], 80), result_row(staff["0002"], "x"), result_row(staff["0003"], "缺考")]))
    outcome = run_command("import_results", exam.pk, path, "--json")
    assert outcome.code == 0
    data = outcome.json()
    assert IMPORT_KEYS <= set(data)
    assert (data["applied"], data["invalid"], data["absent"], data["unmatched"], data["conflicts"]) == (1, 1, 1, 0, 0)
    assert data["errors"] == [
        {"row": 3, "column": "考试成绩", "value": "x", "message": "成绩不是数字。", "kind": "invalid"}
    ]
    assert isinstance(data["import_id"], int)


def test_import_results_strict_refusal_exits_non_zero(exam, staff, tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(results_file([result_row(staff["0001"], 80), result_row(staff["0002"], "x")]))
    outcome = run_command("import_results", exam.pk, path, "--strict", "--json")
    assert outcome.code != 0 and outcome.json()["applied"] == 0
    plain = run_command("import_results", exam.pk, path, "--strict")
    assert plain.code != 0 and "第 3 行" in plain.err and "Traceback" not in plain.err


def test_import_results_of_an_unreadable_file_exits_non_zero(exam, tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a spreadsheet")
    outcome = run_command("import_results", exam.pk, path, "--json")
    assert outcome.code not in (0, None)
    assert outcome.json()["applied"] == 0 and outcome.json()["errors"]
    text = run_command("import_results", exam.pk, path)
    assert text.code != 0 and "Excel" in (text.out + text.err)


def test_import_into_an_unknown_exam_or_from_a_missing_file(exam, tmp_path):
    missing_exam = run_command("import_results", 9999, tmp_path / "x.csv")
    assert missing_exam.code == 1 and "考试不存在" in missing_exam.err
    missing_file = run_command("import_results", exam.pk, tmp_path / "x.csv")
    assert missing_file.code == 1 and "文件不存在" in missing_file.err


def test_import_exemptions_json(exam, staff, tmp_path):
    from tests.helpers import csv_bytes

    path = tmp_path / "免考.csv"
    path.write_bytes(csv_bytes([exemption_row(staff["0001"]), ["0002", "", "不对的名字", "病假"]], header=EXEMPTION_HEADER))
    outcome = run_command("import_exemptions", exam.pk, path, "--json")
    assert outcome.code == 0
    data = outcome.json()
    assert IMPORT_KEYS <= set(data)
    assert (data["applied"], data["conflicts"]) == (1, 1)
    assert data["errors"][0]["kind"] == "conflict"


def test_exam_stats_json_keys_are_the_figures(exam, staff, tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(results_file([result_row(staff["0001"], 80), result_row(staff["0201"], 50)]))
    run_command("import_results", exam.pk, path)
    data = run_command("exam_stats", exam.pk, "--json").json()
    assert set(data) == {
        "expected", "sat", "not_sat", "passed", "failed", "participation_rate", "pass_rate", "average_score",
        "candidates", "exempt",
    }
    assert (data["sat"], data["passed"], data["average_score"]) == (2, 1, 65.0)
    town = run_command("exam_stats", exam.pk, "--unit", "T", "--json").json()
    assert (town["expected"], town["sat"], town["failed"]) == (4, 1, 1)


def test_exam_stats_text_shows_rates_as_percentages(exam, staff):
    outcome = run_command("exam_stats", exam.pk)
    assert outcome.code == 0 and "参考率 0.00%" in outcome.out and "应考 15" in outcome.out


def test_exam_stats_with_an_unknown_unit_or_exam(exam):
    assert "单位代码不存在" in run_command("exam_stats", exam.pk, "--unit", "NOPE").err
    assert run_command("exam_stats", "abc").code == 1
