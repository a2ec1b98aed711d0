"""The staff table carries only the indexes its queries use: each extra index is paid on every
row of a roster load."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pattern-ops indexes exist only on PostgreSQL")
def test_staff_has_no_prefix_search_indexes_on_staff_no_or_the_id_number_hash():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'roster_staff'")
        indexes = dict(cursor.fetchall())
    assert not [name for name, definition in indexes.items() if "varchar_pattern_ops" in definition]
    # the lookups that matter are still served: unique 工号, unique ID-number hash, unit filters
    assert any("UNIQUE" in d and "(staff_no)" in d for d in indexes.values())
    assert any("UNIQUE" in d and "(id_number_hash)" in d for d in indexes.values())
    assert any("(unit_id, is_active)" in d for d in indexes.values())
