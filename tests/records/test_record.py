"""A person's learning record (records.selectors.staff_record) against hand-computed cases:
a retake, an exemption with its reason, a person who moved units, leavers; hours exactly as
the training figures count them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from records.selectors import record_rows, staff_record, year_entries
from roster.models import Staff
from training.selectors import attended_in_year, hours_of_staff, training_stats

pytestmark = pytest.mark.django_db


def record_of(staff_no: str, year: int | None = None) -> dict:
    return staff_record(staff=Staff.objects.select_related("unit").get(staff_no=staff_no), year=year)


def test_the_record_has_the_contract_keys(district):
    record = record_of("0001")
    assert set(record) == {"staff_no", "name", "unit_code", "unit_name", "is_active", "years"}
    year = record["years"][0]
    assert {"year", "required_hours", "hours", "missing_hours", "attendances", "exams"} <= set(year)
    assert {"event_id", "title", "kind", "date", "hours", "status"} <= set(year["attendances"][0])
    assert {"exam_id", "name", "kind", "status", "best_score", "attempts", "exemption_reason"} <= set(year["exams"][0])


def test_a_retake_counts_its_best_score(district):
    exam = record_of("0211")["years"][0]["exams"]
    # 50, then 75: the second sitting passes (pass mark 60)
    assert exam == [{"exam_id": district.exam.pk, "name": "学法用法考试", "kind": "annual_law", "status": "passed",
                     "best_score": 75, "attempts": 2, "exemption_reason": None, "expected": True,
                     "year": district.year}]


def test_a_single_low_score_fails_and_a_person_who_never_sat_has_no_score(district):
    assert [(e["status"], e["best_score"], e["attempts"]) for e in record_of("0301")["years"][0]["exams"]] == [
        ("failed", 40, 1)]
    assert [(e["status"], e["best_score"], e["attempts"]) for e in record_of("0212")["years"][0]["exams"]] == [
        ("not_sat", None, 0)]


def test_an_exemption_carries_its_reason(district):
    year = record_of("0003")["years"][0]
    assert [(e["status"], e["best_score"], e["exemption_reason"]) for e in year["exams"]] == [
        ("exempt", None, "长期病假")]
    # nothing attended: 0 of the 5 hours required this year
    assert (year["hours"], year["required_hours"], year["missing_hours"], year["attendances"]) == (0, 5, 5, [])


def test_a_mover_keeps_the_unit_of_each_event_day(district):
    record = record_of("0002")
    assert (record["unit_code"], record["is_active"]) == ("B", True)
    year = record["years"][0]
    assert [(a["title"], a["unit_code"], a["hours"], a["status"]) for a in year["attendances"]] == [
        ("讲座一", "A", 2, "present"), ("讲座二", "B", 1.5, "present")]
    # 2 + 1.5 of 5 required
    assert (year["hours"], year["missing_hours"]) == (3.5, 1.5)


def test_absent_and_excused_records_are_listed_and_count_no_hours(district):
    year = record_of("0201")["years"][0]
    assert [(a["title"], a["status"], a["hours"], a["event_hours"]) for a in year["attendances"]] == [
        ("讲座一", "absent", 0, 2), ("旁听庭审", "present", 3, 3)]
    assert year["hours"] == 3
    late = record_of("0101")["years"][0]
    assert [(a["status"], a["hours"]) for a in late["attendances"]] == [("late", 2), ("present", 1.5)]
    assert late["hours"] == 3.5
    excused = record_of("0302")["years"][0]
    assert [(a["status"], a["hours"]) for a in excused["attendances"]] == [("excused", 0)]
    assert excused["hours"] == 0


def test_leavers_keep_their_record(district):
    left_unsat = record_of("0004")
    assert left_unsat["is_active"] is False
    # left before the exam closed without sitting: not sat, and not expected (not among not_sat)
    assert [(e["status"], e["expected"]) for e in left_unsat["years"][0]["exams"]] == [("not_sat", False)]
    left_after_sitting = record_of("0005")
    assert [(e["status"], e["best_score"], e["expected"]) for e in left_after_sitting["years"][0]["exams"]] == [
        ("passed", 90, True)]


def test_hours_are_what_the_training_figures_count_for_that_person(district):
    """The person's hours are the figures' records of that person: summed over everyone they
    give the figures' person-hours; each one is the records' event hours."""
    year = district.year
    ids = list(Staff.objects.values_list("id", flat=True))
    entries = year_entries(staff_ids=ids, year=year)
    total = sum(Decimal(str(entries[pk][0]["hours"])) for pk in ids)
    assert total == training_stats(year=year)["person_hours"] == Decimal("15")
    for pk in ids:
        own = sum((a.event.hours for a in attended_in_year(year=year).filter(staff_id=pk).select_related("event")),
                  Decimal("0"))
        assert Decimal(str(entries[pk][0]["hours"])) == own == hours_of_staff(year=year, staff_ids=[pk]).get(pk, 0)
        assert sum(Decimal(str(a["hours"])) for a in entries[pk][0]["attendances"]) == own


def test_years_are_every_year_with_a_candidacy_or_an_attendance_newest_first(last_year):
    this_year = last_year.year + 1
    assert [y["year"] for y in record_of("1001")["years"]] == [this_year, last_year.year]
    # 1002: only last year (the exam and two lectures)
    assert [y["year"] for y in record_of("1002")["years"]] == [last_year.year]
    # 1202 joined this year: nothing at all
    assert record_of("1202")["years"] == []


def test_a_year_asked_for_is_there_even_when_empty(last_year):
    record = record_of("1202", year=2030)
    assert record["years"] == [{"year": 2030, "required_hours": 40, "hours": 0, "missing_hours": 40,
                                "attendances": [], "exams": []}]
    only = record_of("1001", year=last_year.year)["years"]
    assert [y["year"] for y in only] == [last_year.year]


def test_last_years_record_of_a_mid_year_mover_and_a_retake(last_year):
    year = record_of("1001", year=last_year.year)["years"][0]
    assert [(e["status"], e["best_score"], e["attempts"]) for e in year["exams"]] == [("passed", 78, 2)]
    assert (year["hours"], year["required_hours"], year["missing_hours"]) == (5, 40, 35)
    mover = record_of("1002", year=last_year.year)["years"][0]
    assert [(a["date"], a["unit_code"], a["hours"]) for a in mover["attendances"]] == [
        (f"{last_year.year}-03-10", "A", 2), (f"{last_year.year}-09-20", "B", 3)]
    assert mover["hours"] == 5


def test_a_leaver_of_last_year_keeps_last_years_record(last_year):
    record = record_of("1003")
    assert record["is_active"] is False
    year = record["years"][0]
    assert [(a["title"], a["unit_code"], a["hours"]) for a in year["attendances"]] == [("去年讲座一", "A", 2)]
    assert [e["status"] for e in year["exams"]] == ["not_sat"]


def test_an_exemption_of_last_year(last_year):
    assert [(e["status"], e["exemption_reason"]) for e in record_of("1101")["years"][0]["exams"]] == [("exempt", "病假")]


def test_the_row_count_of_a_record_file(district):
    # 0001: one year, two attendances, one exam
    assert record_rows(record_of("0001")) == 4


def test_one_persons_record_is_a_fixed_number_of_queries(district, django_assert_num_queries):
    staff = Staff.objects.select_related("unit").get(staff_no="0002")
    # attendances, candidacies, requirements, hours of the one year
    with django_assert_num_queries(4):
        staff_record(staff=staff)
