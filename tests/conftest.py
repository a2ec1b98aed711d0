from __future__ import annotations

import pytest

from tests.helpers import make_units


@pytest.fixture
def units(db):
    """A three-level district: D (root) > A (department), T (town) > T1, E (education) > S1."""
    return make_units()
