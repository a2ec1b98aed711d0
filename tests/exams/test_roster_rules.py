"""Who is a candidate, and which unit they count for, as the roster changes around an exam."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from exams.enrolment import exams_refresh_open
from exams.models import Audience, Candidate, EnrolledVia, ExamKind
from exams.selectors import exam_not_sat, exam_stats, exam_stats_by_unit
from roster.models import Staff
from tests.helpers import Person, new_id, run_command

from .conftest import district, import_results, make_exam, result_row, results_file, sync, today

pytestmark = pytest.mark.django_db


def enrolled(exam) -> list[str]:
    return sorted(Candidate.objects.filter(exam=exam).values_list("staff__staff_no", flat=True))


def unit_of(exam, staff_no) -> str:
    return Candidate.objects.get(exam=exam, staff__staff_no=staff_no).unit.code


def per_unit(exam) -> dict[str, tuple[int, int]]:
    return {row["unit_code"]: (row["expected"], row["sat"]) for row in exam_stats_by_unit(exam=exam)}


def later(monkeypatch, days: int) -> None:
    """Move the clock ``days`` days ahead (in Asia/Shanghai terms)."""
    moment = timezone.now() + dt.timedelta(days=days)
    monkeypatch.setattr(timezone, "now", lambda: moment)


# --- enrolment at creation ------------------------------------------------------------


def test_creating_an_exam_enrols_every_active_staff_member(staff):
    exam = make_exam()
    assert len(enrolled(exam)) == 15
    assert set(Candidate.objects.filter(exam=exam).values_list("enrolled_via", flat=True)) == {EnrolledVia.AUDIENCE}
    assert unit_of(exam, "0201") == "T1"


def test_enforcement_exams_enrol_certificate_holders_by_default(staff):
    for kind in (ExamKind.ENFORCEMENT_QUALIFICATION, ExamKind.ENFORCEMENT_RENEWAL):
        exam = make_exam(kind=kind, name=kind)
        assert exam.audience == Audience.ENFORCEMENT
        assert enrolled(exam) == ["0101", "0201", "0202", "0203", "0204"]


def test_heads_audience_enrols_unit_heads_only(staff):
    exam = make_exam(audience=Audience.HEADS)
    assert enrolled(exam) == ["0001", "0101"]


def test_staff_who_left_before_the_exam_was_created_are_not_enrolled(staff):
    sync(district()[1:])
    assert "0001" not in enrolled(make_exam())


def test_backfilled_exam_enrols_staff_who_left_after_its_window_closed(staff):
    people = district()
    sync(people[1:])  # 0001 leaves today
    past = make_exam(opens=-60, closes=-30, name="补录")
    assert "0001" in enrolled(past)
    assert exam_stats(exam=past)["expected"] == 15


def test_backfilled_exam_does_not_enrol_those_who_joined_after_it_closed(staff):
    """The first sync of the empty roster (the ``staff`` fixture) created 15 people: their
    joining date is unknown and counts as before any exam. Two join later, by a second sync:
    today, and (as recorded) 20 days ago. An exam back-filled for a window that closed 30 days
    ago enrols the 15, not the joiners; one that closed 10 days ago enrols the earlier joiner."""
    joiners = [Person("0901", "新人一", new_id(), "A"), Person("0902", "新人二", new_id(), "B")]
    sync([*district(), *joiners])
    Staff.objects.filter(staff_no="0902").update(joined_on=today() - dt.timedelta(days=20))
    assert Staff.objects.get(staff_no="0901").joined_on == today()
    long_ago = make_exam(opens=-60, closes=-30, name="补录一")
    assert len(enrolled(long_ago)) == 15 and not {"0901", "0902"} & set(enrolled(long_ago))
    assert exam_stats(exam=long_ago)["expected"] == 15
    recent = make_exam(opens=-40, closes=-10, name="补录二")
    assert "0902" in enrolled(recent) and "0901" not in enrolled(recent)
    # an open exam takes everybody on the roster now
    assert {"0901", "0902"} <= set(enrolled(make_exam(name="本期")))


def test_without_a_first_sync_everyone_needs_a_joining_date_before_the_close(units):
    """When the roster was started by hand (no first sync of an empty roster), the joining
    dates decide for everybody."""
    from roster.models import Unit
    from roster.staff import staff_create

    staff_create(staff_no="0001", name="手工一", id_number=new_id(), unit=Unit.objects.get(code="A"))
    sync([Person("0001", "手工一", Staff.objects.get(staff_no="0001").reveal_id_number(), "A"),
          Person("0002", "同步一", new_id(), "A")])
    Staff.objects.filter(staff_no="0001").update(joined_on=today() - dt.timedelta(days=100))
    assert enrolled(make_exam(opens=-60, closes=-30, name="补录")) == ["0001"]


# --- joiners ------------------------------------------------------------------------


def test_a_new_hire_during_the_window_is_enrolled_after_the_roster_sync(staff, exam, django_capture_on_commit_callbacks):
    newcomer = Person("0009", "新人", new_id(), "B")
    with django_capture_on_commit_callbacks(execute=True):
        sync([*district_now(staff), newcomer])
    candidate = Candidate.objects.get(exam=exam, staff__staff_no="0009")
    assert candidate.enrolled_via == EnrolledVia.JOINER and candidate.unit.code == "B"
    assert exam_stats(exam=exam)["expected"] == 16


def test_a_newly_certified_officer_joins_an_open_enforcement_exam(staff, django_capture_on_commit_callbacks):
    exam = make_exam(kind=ExamKind.ENFORCEMENT_RENEWAL)
    people = district_now(staff)
    people[1].cert = "桂执0002"
    with django_capture_on_commit_callbacks(execute=True):
        sync(people)
    assert "0002" in enrolled(exam)


def test_joiners_are_picked_up_by_exam_stats_even_without_the_signal(staff, exam):
    sync([*district_now(staff), Person("0009", "新人", new_id(), "B")])  # callbacks never run in this test
    assert "0009" not in enrolled(exam)
    outcome = run_command("exam_stats", exam.pk, "--json")
    assert outcome.code == 0 and outcome.json()["expected"] == 16


def test_an_exam_not_yet_open_also_takes_joiners(staff):
    exam = make_exam(opens=5, closes=20)
    sync([*district_now(staff), Person("0009", "新人", new_id(), "B")])
    exams_refresh_open()
    assert "0009" in enrolled(exam)


def test_no_one_joins_a_closed_exam(staff, closed_exam, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sync([*district_now(staff), Person("0009", "新人", new_id(), "B")])
    exams_refresh_open()
    assert "0009" not in enrolled(closed_exam)
    assert exam_stats(exam=closed_exam)["expected"] == 15


# --- leavers ------------------------------------------------------------------------


def test_a_leaver_before_the_window_closes_without_sitting_drops_out_of_expected(staff, exam):
    sync(district_now(staff)[1:])  # 0001 leaves today, the window closes in 10 days
    exams_refresh_open()
    figures = exam_stats(exam=exam)
    assert (figures["candidates"], figures["expected"], figures["not_sat"]) == (15, 14, 14)
    assert "0001" not in [c.staff.staff_no for c in exam_not_sat(exam=exam)]


def test_a_leaver_before_the_window_closes_who_had_sat_stays_counted(staff, exam):
    import_results(exam, results_file([result_row(staff["0001"], 75)]))
    sync(district_now(staff)[1:])
    exams_refresh_open()
    figures = exam_stats(exam=exam)
    assert (figures["expected"], figures["sat"]) == (15, 1)


def test_a_leaver_after_the_window_closed_stays_counted(staff, closed_exam):
    sync(district_now(staff)[1:])  # leaves today; the window closed 30 days ago
    exams_refresh_open()
    figures = exam_stats(exam=closed_exam)
    assert (figures["expected"], figures["not_sat"]) == (15, 15)
    assert "0001" in [c.staff.staff_no for c in exam_not_sat(exam=closed_exam)]


def test_leaving_on_the_last_day_of_the_window_counts_as_before_it_closed(staff):
    exam = make_exam(opens=-10, closes=0)
    sync(district_now(staff)[1:])
    exams_refresh_open()
    assert exam_stats(exam=exam)["expected"] == 14


def test_a_leaver_who_comes_back_during_the_window_is_expected_again(staff, exam):
    sync(district_now(staff)[1:])
    exams_refresh_open()
    sync(district_now(staff))
    exams_refresh_open()
    assert exam_stats(exam=exam)["expected"] == 15


def test_last_years_figures_do_not_change_when_a_leaver_returns(staff, monkeypatch):
    exam = make_exam(opens=-10, closes=5)
    sync(district_now(staff)[1:])
    exams_refresh_open()
    before = exam_stats(exam=exam)
    later(monkeypatch, 30)  # the window has closed; 0001 is re-hired
    sync(district_now(staff))
    exams_refresh_open()
    assert exam_stats(exam=exam) == before and before["expected"] == 14


# --- the candidate's unit -----------------------------------------------------------


def test_a_move_during_the_window_moves_the_candidate(staff, exam, django_capture_on_commit_callbacks):
    people = district_now(staff)
    people[0].unit = "S1"
    with django_capture_on_commit_callbacks(execute=True):
        sync(people)
    assert unit_of(exam, "0001") == "S1"
    assert per_unit(exam)["S1"] == (3, 0)


def test_a_move_after_the_window_closed_does_not_shift_per_unit_figures(staff, monkeypatch):
    exam = make_exam(opens=-10, closes=5)
    import_results(exam, results_file([result_row(staff["0001"], 90)]))
    before = exam_stats_by_unit(exam=exam)
    later(monkeypatch, 30)
    people = district_now(staff)
    people[0].unit = "S1"
    sync(people)
    exams_refresh_open()
    assert Staff.objects.get(staff_no="0001").unit.code == "S1"
    assert unit_of(exam, "0001") == "A"
    assert exam_stats_by_unit(exam=exam) == before


def district_now(staff: dict[str, Person]) -> list[Person]:
    """The district as the fixture synced it, as fresh objects a test may change."""
    return [Person(**vars(p)) for p in staff.values()]


def test_refreshing_is_idempotent(staff, exam):
    assert exams_refresh_open() == 0
    assert today() <= exam.closes_on
