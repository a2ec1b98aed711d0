"""An exam owned by a unit (created by a scoped office, ``Exam.owner``) concerns only that
unit's subtree: its audience, its make-up's audience, and anyone a result or an exemption
would enrol lie within it."""

from __future__ import annotations

from roster.models import Unit

UNIT = Unit._meta.db_table


def owner_sql(exam: str = "e", staff: str = "s") -> str:
    """A parameterless SQL condition: the staff row ``staff`` lies in the subtree of the exam
    ``exam``'s owner, or the exam has none. (``%%``: the query is run with parameters.)"""
    return (
        f"({exam}.owner_id IS NULL OR EXISTS (SELECT 1 FROM {UNIT} ou JOIN {UNIT} su ON su.path LIKE ou.path || '%%'"
        f" WHERE ou.id = {exam}.owner_id AND su.id = {staff}.unit_id))"
    )
