"""A sign-in sheet confined to one unit's subtree (a unit liaison's upload through the API):
only that subtree's staff are recorded, and every row that does not resolve to one of them
reads the same, so that the upload tells nothing about people outside the subtree."""

from __future__ import annotations

import pytest

from sheets.models import ImportRecord
from tests.training.conftest import sheet
from training.attendance import OUTSIDE_WITHIN, attendance_import
from training.models import Attendance

pytestmark = pytest.mark.django_db


def run(event, rows, within=None):
    return attendance_import(event=event, data=sheet(rows), file_name="sign-in.csv", within=within)


def recorded(event) -> list[str]:
    return sorted(Attendance.objects.filter(event=event).values_list("staff__staff_no", flat=True))


ROWS = [
    ["张三", "", "0001", "", ""],  # A: recorded
    ["赵六", "", "0005", "", ""],  # T1: outside A
    ["王五", "B", "", "", ""],  # two 王五 in B: ambiguous
    ["李四", "", "0003", "", ""],  # 0003 is 王五: a conflict
    ["无名", "", "9999", "", ""],  # nobody
    ["李四", "", "", "1234", ""],  # a broken ID number: the row's own problem
    ["张三", "", "0001", "", ""],  # the same person again
]


def test_only_staff_of_the_subtree_are_recorded(staff, event, units):
    result = run(event, ROWS, within=units["A"])
    assert result.applied == 1 and recorded(event) == ["0001"]
    assert result.duplicates == 1


def test_every_row_not_resolving_inside_reads_the_same(staff, event, units):
    result = run(event, ROWS, within=units["A"])
    by_row = {p.row: p for p in result.errors}
    for row in (3, 4, 5, 6):
        assert (by_row[row].kind, by_row[row].message) == ("unmatched", OUTSIDE_WITHIN), row
    assert by_row[7].kind == "invalid"  # about the cell itself, not about anybody on the roster
    assert by_row[8].kind == "duplicate"
    assert (result.unmatched, result.ambiguous, result.conflicts, result.invalid) == (4, 0, 0, 1)
    # the values reported are the file's own
    assert by_row[3].value == "赵六" and by_row[6].value == "9999"


def test_without_within_the_sheet_is_matched_over_the_whole_roster(staff, event):
    result = run(event, ROWS)
    assert recorded(event) == ["0001", "0005"]
    assert {p.row: p.kind for p in result.errors} == {4: "ambiguous", 5: "conflict", 6: "unmatched", 7: "invalid",
                                                      8: "duplicate"}


def test_a_town_subtree_takes_its_sub_units(staff, event, units):
    result = run(event, ROWS, within=units["T"])
    assert result.applied == 1 and recorded(event) == ["0005"]


def test_the_record_notes_the_subtree(staff, event, units):
    result = run(event, ROWS[:1], within=units["A"])
    assert ImportRecord.objects.get(pk=result.import_id).options == {"within": "A"}
