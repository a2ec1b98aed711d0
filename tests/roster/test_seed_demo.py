from __future__ import annotations

import pytest

from roster.models import Staff, Unit
from roster.selectors import roster_summary
from tests.helpers import run_command

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_living_district_once():
    outcome = run_command("seed_demo", "--if-empty")
    assert outcome.code == 0, outcome.err
    summary = roster_summary()
    assert 2000 <= summary["active"] <= 2200
    assert 30 <= summary["units"] <= 40
    assert Unit.objects.filter(kind="town").count() == 2
    assert Unit.objects.filter(kind="school").count() >= 10
    assert Staff.objects.filter(is_head=True).count() == summary["units"] - 1
    again = run_command("seed_demo", "--if-empty")
    assert "跳过" in again.out and roster_summary() == summary
