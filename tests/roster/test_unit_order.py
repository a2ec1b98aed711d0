"""One unit order everywhere: the tree order (sort_order within each parent, then code),
never the text of the id path (where /1/10/ sorts before /1/2/)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from access.scoping import scope_for
from exams.creation import exam_create
from exams.models import ExamKind
from exams.selectors import exam_not_sat, exam_stats_by_unit
from reports.annual import annual_report_build
from reports.snapshots import snapshots_refresh
from roster.models import Unit
from roster.ordering import unit_order
from roster.sync import roster_sync, roster_sync_create
from roster.units import units_rebuild_paths
from tests.helpers import Person, csv_bytes, new_id, run_command
from web.selectors import picker_units

pytestmark = pytest.mark.django_db

# created in this order (ids 2..12 under the root), listed by sort order: the reverse
CODES = [f"U{i:02d}" for i in range(1, 12)]


@pytest.fixture
def tree():
    root = Unit.objects.create(code="R", name="区", kind="admin")
    for i, code in enumerate(CODES):
        Unit.objects.create(code=code, name=f"单位{code}", parent=root, kind="department", sort_order=100 - i)
    # a sub-unit of the last one, which must follow its parent directly
    Unit.objects.create(code="U11X", name="下级", parent=Unit.objects.get(code="U11"), kind="other")
    units_rebuild_paths()
    return root


def expected_codes() -> list[str]:
    return ["R", "U11", "U11X", *reversed(CODES[:-1])]


def test_default_and_helper_order_is_the_tree_order(tree):
    assert list(Unit.objects.values_list("code", flat=True)) == expected_codes()
    assert list(Unit.objects.order_by(*unit_order()).values_list("code", flat=True)) == expected_codes()
    # what the path text would give: /1/10/ before /1/2/
    by_path = list(Unit.objects.order_by("path").values_list("code", flat=True))
    assert by_path != expected_codes()


def test_equal_sort_orders_fall_back_to_code(db):
    root = Unit.objects.create(code="R", name="区")
    for code in ["C", "A", "B"]:
        Unit.objects.create(code=code, name=code, parent=root, sort_order=5)
    units_rebuild_paths()
    assert list(Unit.objects.values_list("code", flat=True)) == ["R", "A", "B", "C"]


def test_a_changed_sort_order_or_move_by_import_reorders(tree, tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(csv_bytes([["U01", "单位U01", "R", "department", "0"]], header=["代码", "名称", "上级代码", "类型", "排序"]))
    assert run_command("import_units", path).code == 0
    assert list(Unit.objects.values_list("code", flat=True))[:2] == ["R", "U01"]
    path.write_bytes(csv_bytes([["U01", "单位U01", "U11"]], header=["代码", "名称", "上级代码"]))
    assert run_command("import_units", path).code == 0
    codes = list(Unit.objects.values_list("code", flat=True))
    assert codes[:4] == ["R", "U11", "U01", "U11X"]  # U01 (sort 0) before U11X (sort 0) by code


def _hr_user():
    from access.services import user_role_set

    role, _ = user_role_set(username="hr-order", role="hr", unit_code=None, password="x-Pass-12345")
    return role.user


def test_picker_api_figures_not_sat_and_report_agree(tree, client):
    people = [Person(f"9{i:03d}", f"人{i}", new_id(), code) for i, code in enumerate(CODES + ["U11X"])]
    result = roster_sync(sync=roster_sync_create(file=csv_bytes(people), file_name="r.csv"))
    assert result.applied
    today = timezone.localdate()
    exam = exam_create(name="学法", year=today.year, kind=ExamKind.ANNUAL_LAW,
                       opens_on=today - dt.timedelta(days=3), closes_on=today + dt.timedelta(days=3))
    user = _hr_user()
    scope = scope_for(user)
    assert [u.code for u in picker_units(scope)] == expected_codes()

    assert [r["unit_code"] for r in exam_stats_by_unit(exam=exam, rollup=True)] == expected_codes()
    not_sat_units = []
    for c in exam_not_sat(exam=exam):
        if c.unit.code not in not_sat_units:
            not_sat_units.append(c.unit.code)
    assert not_sat_units == expected_codes()[1:]

    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    body = api.get("/api/v1/units/?page_size=100").json()
    items = body["results"] if isinstance(body, dict) else body
    assert [u["code"] for u in items] == expected_codes()

    snapshots_refresh(exam_ids=[exam.pk])
    outcome = run_command("participation", "--exam", str(exam.pk), "--json")
    assert [r["unit_code"] for r in outcome.json()] == expected_codes()

    report = annual_report_build(year=today.year)
    tops = [u["unit_code"] for u in report["exams"][0]["by_unit"]]
    assert tops == [c for c in expected_codes() if c not in ("R", "U11X")]
