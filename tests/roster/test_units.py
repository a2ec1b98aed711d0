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


def _tree(tmp_path):
    rows = [["D", "区", "", "admin", "1"], ["E", "教育局", "D", "education", "2"], ["S", "一中", "E", "school", "7"]]
    outcome = run_command("import_units", write(tmp_path, rows, header=HEADER + ["排序"]))
    assert outcome.code == 0


def test_a_rename_file_without_parent_kind_or_order_keeps_them(tmp_path):
    _tree(tmp_path)
    outcome = run_command("import_units", write(tmp_path, [["S", "柳东第一中学"]], header=["代码", "名称"]), "--json")
    assert outcome.code == 0
    school = Unit.objects.get(code="S")
    assert school.name == "柳东第一中学"
    assert school.parent.code == "E" and school.kind == "school" and school.sort_order == 7
    assert school.depth == 2


def test_an_empty_parent_cell_on_a_unit_with_a_parent_is_an_error_unless_it_says_root(tmp_path):
    _tree(tmp_path)
    outcome = run_command("import_units", write(tmp_path, [["S", "一中", "", "school"]]), "--json")
    assert outcome.code != 0
    error = outcome.json()["errors"][0]
    assert error["row"] == 2 and error["column"] == "上级代码" and "根" in error["message"]
    assert Unit.objects.get(code="S").parent.code == "E"
    root = run_command("import_units", write(tmp_path, [["S", "一中", "根", "school"]]), "--json")
    assert root.code == 0 and Unit.objects.get(code="S").parent is None


def test_dry_run_json_lists_every_change_and_writes_nothing(tmp_path):
    _tree(tmp_path)
    rows = [["S", "柳东一中", "D", "school"], ["N", "新单位", "D", ""]]
    outcome = run_command("import_units", write(tmp_path, rows), "--dry-run", "--json")
    assert outcome.code == 0
    body = outcome.json()
    assert body["dry_run"] is True and body["applied"] is False
    changes = {(c["code"], c["field"]): (c["old"], c["new"]) for c in body["changes"]}
    assert changes[("S", "name")] == ("一中", "柳东一中")
    assert changes[("S", "parent")] == ("E", "D")
    assert ("S", "kind") not in changes
    assert changes[("N", "name")] == (None, "新单位")
    assert Unit.objects.get(code="S").name == "一中" and not Unit.objects.filter(code="N").exists()


def test_moving_a_unit_with_staff_and_sub_units_is_reported_as_a_move(tmp_path):
    _tree(tmp_path)
    outcome = run_command("import_units", write(tmp_path, [["E", "教育局", "根", "education"]]), "--json")
    assert outcome.code == 0
    moves = outcome.json()["moves"]
    assert moves == [{"code": "E", "old_parent": "D", "new_parent": None, "staff": 0, "sub_units": 1}]
    assert Unit.objects.get(code="S").depth == 1
