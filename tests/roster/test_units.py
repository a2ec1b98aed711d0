from __future__ import annotations

import pytest

from roster.models import Unit
from tests.helpers import csv_bytes, run_command

pytestmark = pytest.mark.django_db
HEADER = ["代码", "名称", "上级代码", "类型"]


def write(tmp_path, rows, header=HEADER):
    path = tmp_path / "units.csv"
    path.write_bytes(csv_bytes(rows, header=header))
    return path


def test_import_units_builds_the_tree_in_any_row_order(tmp_path):
    rows = [["T1", "执法队", "T", "other"], ["T", "某镇", "D", "镇"], ["D", "某区", "", "admin"]]
    outcome = run_command("import_units", write(tmp_path, rows), "--json")
    assert outcome.code == 0 and outcome.json()["created"] == 3
    leaf = Unit.objects.get(code="T1")
    town = Unit.objects.get(code="T")
    assert leaf.parent == town and town.kind == "town"
    assert leaf.path.startswith(town.path) and leaf.depth == 2


def test_import_units_updates_by_code_and_is_idempotent(tmp_path):
    run_command("import_units", write(tmp_path, [["D", "某区", "", "admin"], ["A", "财政局", "D", "department"]]))
    again = run_command("import_units", write(tmp_path, [["D", "某区", "", "admin"], ["A", "财政局（新）", "D", "department"]]), "--json")
    assert again.json()["updated"] == 1 and again.json()["unchanged"] == 1
    assert Unit.objects.get(code="A").name == "财政局（新）"


def test_moving_a_unit_updates_the_paths_of_its_subtree(tmp_path):
    run_command("import_units", write(tmp_path, [["D", "区", "", "admin"], ["T", "镇", "D", "town"],
                                                  ["X", "队", "T", "other"], ["Y", "组", "X", "other"]]))
    run_command("import_units", write(tmp_path, [["X", "队", "D", "other"]]))
    x, y, d = (Unit.objects.get(code=c) for c in "XYD")
    assert x.path == f"{d.path}{x.pk}/" and y.path == f"{x.path}{y.pk}/"


def test_unknown_parent_and_cycle_are_refused_with_rows(tmp_path):
    outcome = run_command("import_units", write(tmp_path, [["A", "甲", "NOPE", "other"]]), "--json")
    assert outcome.code != 0
    assert outcome.json()["errors"][0]["row"] == 2 and outcome.json()["errors"][0]["column"] == "上级代码"
    cyclic = run_command("import_units", write(tmp_path, [["A", "甲", "B", "other"], ["B", "乙", "A", "other"]]), "--json")
    assert cyclic.code != 0 and "循环" in cyclic.json()["errors"][0]["message"]
    assert Unit.objects.count() == 0


def test_unknown_kind_is_a_row_error(tmp_path):
    outcome = run_command("import_units", write(tmp_path, [["A", "甲", "", "星球"]]), "--json")
    assert outcome.code != 0 and outcome.json()["errors"][0]["column"] == "类型"
