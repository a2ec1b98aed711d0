"""Reads for learning records (学法档案): a person's record, and who a unit's yearly learning
file (年度学法档案) lists.

ONE builder, ``year_entries``, makes the years of a person's record, for one person or for a
few hundred at a time: the API, the page, both commands and the learning file read through
it. It defines nothing of its own:

- ``hours`` is ``training.selectors.hours_of_staff``: the records ``training_stats`` counts
  (``counted_q``: present or late, at an event of the year), summed by the same expression;
- each attendance is ``training.selectors.staff_attendances`` (any status, with the unit of
  the event's day and the hours it counted);
- each exam is ``exams.selectors.staff_candidacies``: the candidate's status (exempt, else
  passed / failed by the best score of all attempts, else not sat; a main exam's counts its
  make-up too, and its ``best_score`` is then the better of the two) and whether the figures
  expect them to sit (``expected_q``).

Queries: two, plus one per year present, plus one for the requirements, however many
people (up to 2,000: ``hours_of_staff`` reads in chunks of that size).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from exams.enrolment import exams_refresh_open
from exams.models import Exam
from exams.selectors import EXEMPT, staff_candidacies
from roster.history import initial_sync_id, staff_active_on
from roster.models import ChangeKind, Staff, StaffChange, Unit
from training.exports import as_number
from training.selectors import hours_of_staff, required_hours_of, staff_attendances, staff_units_on

# how many people the learning file reads at a time: memory stays flat however many there are
PEOPLE_PER_CHUNK = 250
_CHUNK = 2000


def _empty_year(year: int, required: Decimal) -> dict[str, Any]:
    return {
        "year": year,
        "required_hours": as_number(required),
        "hours": 0,
        "missing_hours": as_number(required),
        "attendances": [],
        "exams": [],
    }


def year_entries(*, staff_ids: Sequence[int], year: int | None = None) -> dict[int, list[dict[str, Any]]]:
    """Each person's years, newest first: every year in which they were a candidate or have an
    attendance record; with ``year``, that year alone, present even when empty. A year holds
    ``year``, ``required_hours``, ``hours``, ``missing_hours`` (what is still missing, never
    below 0), ``attendances`` (``event_id``, ``title``, ``kind``, ``date``, ``hours``: what the
    record counted, ``status``; and ``unit_code``, ``unit_name``: the unit of the event's day,
    ``event_hours``) and ``exams`` (``exam_id``, ``name``, ``kind``, ``status``,
    ``best_score``, ``attempts``, ``exemption_reason``; and ``expected``, ``year``)."""
    ids = list(dict.fromkeys(staff_ids))
    attendances: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    exams: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    years: dict[int, set[int]] = {pk: ({year} if year is not None else set()) for pk in ids}

    rows = staff_attendances(staff_ids=ids, year=year).values_list(
        "staff_id", "event_id", "event__title", "event__kind", "event__date", "counted_hours", "status",
        "unit__code", "unit__name", "event__hours",
    )
    for staff_id, event_id, title, kind, date, counted, status, unit_code, unit_name, event_hours in rows:
        years[staff_id].add(date.year)
        attendances[(staff_id, date.year)].append({
            "event_id": event_id, "title": title, "kind": kind, "date": date.isoformat(),
            "hours": as_number(counted), "status": status,
            "unit_code": unit_code, "unit_name": unit_name, "event_hours": as_number(event_hours),
        })

    rows = staff_candidacies(staff_ids=ids, year=year).values_list(
        "staff_id", "exam_id", "exam__name", "exam__kind", "exam__year", "status", "score", "attempt_count",
        "exempt_reason", "is_expected",
    )
    for staff_id, exam_id, name, kind, exam_year, status, best, attempts, reason, expected in rows:
        years[staff_id].add(exam_year)
        exams[(staff_id, exam_year)].append({
            "exam_id": exam_id, "name": name, "kind": kind, "status": status,
            "best_score": None if best is None else as_number(best), "attempts": attempts,
            "exemption_reason": (reason or "") if status == EXEMPT else None,
            "expected": bool(expected), "year": exam_year,
        })

    people_of_year: dict[int, list[int]] = defaultdict(list)
    for staff_id, person_years in years.items():
        for y in person_years:
            people_of_year[y].append(staff_id)
    required = required_hours_of(years=people_of_year)
    hours: dict[tuple[int, int], Decimal] = {}
    for y, people in people_of_year.items():
        for staff_id, total in hours_of_staff(year=y, staff_ids=people).items():
            hours[(staff_id, y)] = total

    result: dict[int, list[dict[str, Any]]] = {}
    for staff_id in ids:
        entries = []
        for y in sorted(years[staff_id], reverse=True):
            entry = _empty_year(y, required[y])
            total = hours.get((staff_id, y), Decimal("0"))
            entry["hours"] = as_number(total)
            entry["missing_hours"] = as_number(max(Decimal("0"), required[y] - total))
            entry["attendances"] = attendances.get((staff_id, y), [])
            entry["exams"] = exams.get((staff_id, y), [])
            entries.append(entry)
        result[staff_id] = entries
    return result


def staff_record(*, staff: Staff, year: int | None = None) -> dict[str, Any]:
    """A person's learning record (the API's JSON): ``staff_no``, ``name``, ``unit_code``,
    ``unit_name`` (their current unit), ``is_active`` and ``years`` (``year_entries``).
    ``staff.unit`` should be joined."""
    return {
        "staff_no": staff.staff_no,
        "name": staff.name,
        "unit_code": staff.unit.code,
        "unit_name": staff.unit.name,
        "is_active": staff.is_active,
        "years": year_entries(staff_ids=[staff.pk], year=year)[staff.pk],
    }


def record_rows(record: dict[str, Any]) -> int:
    """How many rows a record's file holds (years, attendances, exams): its audit count."""
    return sum(1 + len(y["attendances"]) + len(y["exams"]) for y in record["years"])


def record_staff_get(*, staff_no: str) -> Staff | None:
    staff_no = (staff_no or "").strip()
    if not staff_no or "\x00" in staff_no:
        return None
    return Staff.objects.select_related("unit").filter(staff_no=staff_no).first()


# --- who the learning file lists ------------------------------------------------------------


@dataclass(frozen=True)
class FilePerson:
    """One person of a learning file, with the unit they belonged to at the end of the year."""

    staff_id: int
    staff_no: str
    name: str
    unit_code: str
    unit_name: str


def learning_file_people(*, year: int, unit: Unit, today: dt.date | None = None) -> list[FilePerson]:
    """The people a unit's learning file lists: on the roster and in the unit's subtree at the
    end of the year (now, for the current year and later ones), by unit (tree order) then
    工号. A past year is read from the roster history: who had joined by then (the people the
    first sync of an empty roster created count as there from before any year), who was on
    the roster (``staff_active_on``) and in which unit (``staff_units_on``). Queries: a few,
    plus one per 2,000 people who could have been there."""
    today = today or timezone.localdate()
    subtree = {
        pk: (code, name, path, (order, code))
        for pk, code, name, path, order in Unit.objects.filter(path__startswith=unit.path).values_list(
            "id", "code", "name", "path", "tree_key"
        )
    }
    if year >= today.year:
        rows = (
            Staff.objects.filter(is_active=True, unit__path__startswith=unit.path)
            .values_list("id", "staff_no", "name", "unit_id")
        )
        people = [(pk, staff_no, name, unit_id) for pk, staff_no, name, unit_id in rows]
    else:
        day = dt.date(year, 12, 31)
        cutoff = timezone.make_aware(dt.datetime(year + 1, 1, 1))
        joined = Q(joined_on__lte=day) | Q(joined_on__isnull=True, created_at__lt=cutoff)
        first_sync = initial_sync_id()
        if first_sync is not None:
            joined |= Q(created_by_sync_id=first_sync)
        # anyone in the subtree now, or moved since (they may have been in it then)
        moved_since = StaffChange.objects.filter(kind=ChangeKind.MOVED, field="unit", changed_at__gte=cutoff)
        rows = list(
            Staff.objects.filter(joined)
            .filter(Q(unit__path__startswith=unit.path) | Q(pk__in=moved_since.values("staff_id")))
            .values_list("id", "staff_no", "name", "unit_id", "is_active")
        )
        units_then = staff_units_on(staff=[(r[0], r[3]) for r in rows], day=day)
        active_then = staff_active_on(staff=[(r[0], r[4]) for r in rows], cutoff=cutoff)
        people = [(pk, staff_no, name, units_then[pk]) for pk, staff_no, name, _, _ in rows if active_then[pk]]
    listed = [
        FilePerson(pk, staff_no, name, subtree[unit_id][0], subtree[unit_id][1])
        for pk, staff_no, name, unit_id in people
        if unit_id in subtree
    ]
    # the one unit order (roster.ordering): depth first, siblings by sort order then code
    tree_key = {code: key for code, _, _, key in subtree.values()}
    listed.sort(key=lambda p: (tree_key[p.unit_code], p.staff_no))
    return listed


def learning_file_exams(*, year: int) -> list[Exam]:
    """The exams of the year, in the order they opened (one column each in the 汇总 sheet),
    those still open first brought up to date with the roster (as ``exam_stats`` is)."""
    exams = list(Exam.objects.filter(year=year).order_by("opens_on", "id"))
    open_ids = [exam.pk for exam in exams if not exam.is_closed()]
    if open_ids:
        exams_refresh_open(exam_ids=open_ids, force=False)
    return exams


def learning_file_entries(*, year: int, people: Sequence[FilePerson]) -> Iterator[tuple[FilePerson, dict[str, Any]]]:
    """Each person with their year (``year_entries``), read ``PEOPLE_PER_CHUNK`` people at a
    time: nothing is held for everyone at once."""
    for start in range(0, len(people), PEOPLE_PER_CHUNK):
        chunk = people[start : start + PEOPLE_PER_CHUNK]
        entries = year_entries(staff_ids=[p.staff_id for p in chunk], year=year)
        for person in chunk:
            yield person, entries[person.staff_id][0]
