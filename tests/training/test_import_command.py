from __future__ import annotations

import pytest

from sheets.models import ImportRecord
from tests.helpers import csv_bytes, run_command
from tests.training.conftest import sheet
from training.models import Attendance, TrainingEvent

pytestmark = pytest.mark.django_db

CONTRACT_KEYS = {"event_id", "applied", "duplicates", "ambiguous", "unmatched", "invalid", "errors"}


@pytest.fixture
def sheet_file(tmp_path, staff):
    path = tmp_path / "签到表.csv"
    path.write_bytes(sheet([
        ["张三", "A", "", "", ""],
        ["王五", "B", "", "", ""],        # ambiguous
        ["张三", "", "0001", "", ""],     # duplicate
        ["查无此人", "A", "", "", ""],    # unmatched
        ["李四", "", "", "", ""],         # invalid: nothing to match by
        ["赵六", "T1", "", "", ""],
    ]))
    return path


def importing(path, *extra):
    return run_command(
        "import_attendance", path, "--title", "征地拆迁典型案例讲座", "--kind", "lecture", "--date", "2024-06-12",
        "--hours", "2.5", *extra,
    )


def test_import_creates_the_event_and_prints_the_contract_json(sheet_file):
    outcome = importing(sheet_file, "--organiser", "B", "--json")
    assert outcome.code == 0
    data = outcome.json()
    assert CONTRACT_KEYS <= set(data)
    assert (data["applied"], data["duplicates"], data["ambiguous"], data["unmatched"], data["invalid"]) == (2, 1, 1, 1, 1)
    assert [(e["row"], e["kind"]) for e in data["errors"]] == [(3, "ambiguous"), (4, "duplicate"), (5, "unmatched"), (6, "invalid")]
    assert set(data["errors"][0]) == {"row", "column", "value", "message", "kind"}
    event = TrainingEvent.objects.get(pk=data["event_id"])
    assert (event.title, event.kind, str(event.hours), event.organiser.code) == ("征地拆迁典型案例讲座", "lecture", "2.50", "B")


def test_running_the_same_import_again_finds_the_event_and_adds_nothing(sheet_file):
    first = importing(sheet_file, "--json").json()
    again = importing(sheet_file, "--json").json()
    assert again["event_id"] == first["event_id"]
    assert again["applied"] == 0 and again["already_recorded"] == 2
    assert TrainingEvent.objects.count() == 1 and Attendance.objects.count() == 2
    assert ImportRecord.objects.filter(target_id=first["event_id"]).count() == 2


def test_existing_event_keeps_its_hours_and_says_so(sheet_file):
    importing(sheet_file)
    outcome = run_command(
        "import_attendance", sheet_file, "--title", "征地拆迁典型案例讲座", "--kind", "lecture", "--date", "2024-06-12",
        "--hours", "3", "--json",
    )
    data = outcome.json()
    assert outcome.code == 0 and any("学时" in w for w in data["warnings"])
    assert str(TrainingEvent.objects.get().hours) == "2.50"


def test_row_problems_do_not_make_the_exit_status_non_zero(sheet_file):
    outcome = importing(sheet_file)
    assert outcome.code == 0
    assert "新记录 2 人" in outcome.out
    assert "第 3 行「姓名」（王五）" in outcome.err


def test_unreadable_file_exits_non_zero_and_creates_nothing(tmp_path, staff):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"this is not an excel file at all")
    outcome = importing(bad, "--json")
    assert outcome.code == 2 and "错误" in outcome.err
    assert "error" in outcome.json()
    assert TrainingEvent.objects.count() == 0 and Attendance.objects.count() == 0


def test_missing_file_exits_non_zero(tmp_path, staff):
    outcome = importing(tmp_path / "missing.csv")
    assert outcome.code == 2 and "文件不存在" in outcome.err


def test_header_without_name_column_is_unreadable(tmp_path, staff):
    path = tmp_path / "s.csv"
    path.write_bytes(csv_bytes([["0001", "A"]], header=["工号", "单位"]))
    outcome = importing(path)
    assert outcome.code == 2 and "姓名" in outcome.err


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [("--kind", "party", "培训类型"), ("--date", "2024/06/12", "日期"), ("--hours", "-1", "学时"),
     ("--hours", "abc", "学时"), ("--organiser", "NOPE", "主办单位"), ("--date", "9999-12-31", "活动日期"),
     ("--date", "0001-01-01", "活动日期")],
)
def test_bad_arguments_are_refused_in_chinese(sheet_file, option, value, words):
    args = {"--title": "讲座", "--kind": "lecture", "--date": "2024-06-12", "--hours": "2"}
    args[option] = value
    flat = [part for pair in args.items() for part in pair]
    outcome = run_command("import_attendance", sheet_file, *flat)
    assert outcome.code != 0 and words in outcome.err and "Traceback" not in outcome.err
    assert TrainingEvent.objects.count() == 0
