"""The hr page of SCIM's mass-deactivation guard: its state, and the button that allows
further deactivations (as ``scim_allow_deactivations`` does)."""

from __future__ import annotations

import pytest

from scim.models import DeactivationAllowance
from scim.services import deactivation_guard_state

pytestmark = pytest.mark.django_db


def test_hr_sees_the_guard_and_allows_deactivations(personas):
    client = personas["hr"].client()
    page = client.get("/roster/scim/")
    assert page.status_code == 200
    assert "允许 SCIM 大批停用" in page.content.decode() and "最近一小时内" in page.content.decode()
    assert deactivation_guard_state()["allowed_until"] is None
    response = client.post("/roster/scim/")
    assert response.status_code == 302
    allowance = DeactivationAllowance.objects.get()
    assert allowance.allowed_by == personas["hr"].user
    assert deactivation_guard_state()["allowed_until"] == allowance.until
    assert "已允许" in client.get("/roster/scim/").content.decode()
    assert "/roster/scim/" in client.get("/roster/").content.decode()


@pytest.mark.parametrize("role", ["legal_office", "liaison_a", "viewer"])
def test_other_roles_may_not_allow(personas, role):
    client = personas[role].client()
    assert client.get("/roster/scim/").status_code == 403
    assert client.post("/roster/scim/").status_code == 403
    assert not DeactivationAllowance.objects.exists()
