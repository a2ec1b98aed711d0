"""Make-up exams (补考): the link and its checks, the make-up's audience (and how it follows the
main exam's later results), and the main exam's figures with the make-up folded in, in
exam_stats, the not-sat list, the snapshots and the commands.

The year: the law exam (closed; 15 staff, 0003 exempt, so 14 expected) with results
0001 80, 0002 50, 0004 90, 0101 40, 0201 70, 0202 30, 0301 85 (7 sat, 4 passed); its make-up
(open) for the 10 who owe it, with results 0002 75, 0101 55, 0005 65, 0102 20; and an
unrelated second law exam (open, all 15) with results 0001 90, 0006 60."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from exams.creation import exam_create
from exams.enrolment import exams_refresh_open
from exams.models import Candidate, EnrolledVia, Exam, ExamKind
from exams.selectors import exam_not_sat, exam_stats, exam_stats_by_unit, exam_stats_with_makeup
from reports.models import ExamSnapshot
from reports.selectors import EXAM_FIGURES, participation_latest
from reports.snapshots import snapshots_refresh
from roster.models import Unit
from tests.helpers import Person, new_id, run_command

from .conftest import district, exemption_row, import_exemptions, import_results, result_row, results_file, sync, today

pytestmark = pytest.mark.django_db

OWE_MAIN = {"0002", "0101", "0202", "0005", "0006", "0102", "0103", "0203", "0204", "0302"}


def window(opens: int, closes: int) -> dict:
    return {"opens_on": today() + dt.timedelta(days=opens), "closes_on": today() + dt.timedelta(days=closes)}


def staff_nos(candidates) -> set[str]:
    return set(candidates.values_list("staff__staff_no", flat=True))


@pytest.fixture
def year(staff):
    """The main exam, its make-up and an unrelated second sitting, with their results."""
    y = today().year
    main = exam_create(name="学法用法考试", year=y, kind=ExamKind.ANNUAL_LAW, **window(-60, -30))
    import_exemptions(main, [exemption_row(staff["0003"])])
    scores = {"0001": 80, "0002": 50, "0004": 90, "0101": 40, "0201": 70, "0202": 30, "0301": 85}
    assert import_results(main, results_file([result_row(staff[n], s) for n, s in scores.items()])).applied == 7
    makeup = exam_create(name="学法用法考试（补考）", year=y, kind=ExamKind.ANNUAL_LAW, makeup_of=main.pk,
                         **window(-20, 10))
    rows = [result_row(staff[n], s) for n, s in {"0002": 75, "0101": 55, "0005": 65, "0102": 20}.items()]
    assert import_results(makeup, results_file(rows)).applied == 4
    second = exam_create(name="学法用法专题考试", year=y, kind=ExamKind.ANNUAL_LAW, **window(-5, 20))
    assert import_results(second, results_file([result_row(staff["0001"], 90), result_row(staff["0006"], 60)])).applied == 2
    for exam in (main, makeup, second):
        exam.refresh_from_db()
    return main, makeup, second


# --- the link -----------------------------------------------------------------------------


def test_a_makeup_enrols_the_main_exams_expected_candidates_who_have_not_passed_it(year):
    main, makeup, _ = year
    assert makeup.makeup_of_id == main.pk and makeup.audience == main.audience
    assert staff_nos(Candidate.objects.filter(exam=makeup)) == OWE_MAIN
    assert not Candidate.objects.filter(exam=makeup, staff__staff_no__in=["0001", "0003", "0004"]).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": ExamKind.ENFORCEMENT_QUALIFICATION}, "考试类型"),
        ({"year": 2001}, "年度"),
        ({"makeup_of": 999999}, "不存在"),
    ],
)
def test_a_makeup_must_be_of_an_existing_exam_of_the_same_kind_and_year(year, change, message):
    main = year[0]
    values = {"name": "另一次补考", "year": main.year, "kind": ExamKind.ANNUAL_LAW, "makeup_of": main.pk, **change}
    outcome = run_command(
        "create_exam", "--name", values["name"], "--year", values["year"], "--kind", values["kind"],
        "--makeup-of", values["makeup_of"],
    )
    assert outcome.code == 1 and message in outcome.err and "Traceback" not in outcome.err
    assert not Exam.objects.filter(name="另一次补考").exists()


def test_a_makeup_cannot_have_a_makeup_and_an_exam_only_one(year):
    main, makeup, _ = year
    of_makeup = run_command("create_exam", "--name", "补考的补考", "--year", main.year, "--kind", "annual_law",
                            "--makeup-of", makeup.pk)
    assert of_makeup.code == 1 and "本身是补考" in of_makeup.err
    second = run_command("create_exam", "--name", "第二次补考", "--year", main.year, "--kind", "annual_law",
                         "--makeup-of", main.pk)
    assert second.code == 1 and "已有补考" in second.err


def test_create_exam_makeup_of_links_and_says_so(staff):
    main = exam_create(name="执法资格考试", year=today().year, kind=ExamKind.ENFORCEMENT_QUALIFICATION, **window(-40, -30))
    import_results(main, results_file([result_row(staff["0201"], 90), result_row(staff["0202"], 10)]))
    outcome = run_command("create_exam", "--name", "执法资格考试补考", "--year", today().year,
                          "--kind", "enforcement_qualification", "--makeup-of", main.pk)
    assert outcome.code == 0, outcome.err
    makeup = Exam.objects.get(pk=int(outcome.out.strip().splitlines()[-1]))
    assert makeup.makeup_of_id == main.pk and "补考" in outcome.out
    # the enforcement officers but the one who passed: 0101 (B's head) and 0202..0204
    assert staff_nos(Candidate.objects.filter(exam=makeup)) == {"0101", "0202", "0203", "0204"}


# --- the folded figures -------------------------------------------------------------------


def test_the_main_exam_counts_a_sitting_or_a_pass_of_either_and_keeps_its_expected(year):
    main, makeup, second = year
    figures = exam_stats(exam=main)
    # sat: the 7, and 0005, 0102 who sat only the make-up; passed: the 4, and 0002, 0005
    assert (figures["expected"], figures["sat"], figures["not_sat"], figures["passed"], figures["failed"]) == (
        14, 9, 5, 6, 3)
    # the better of the two best scores: 80 75 90 55 70 30 85 65 20
    assert figures["average_score"] == pytest.approx(570 / 9)
    own = exam_stats(exam=makeup)
    assert (own["expected"], own["sat"], own["passed"]) == (10, 4, 2)
    # the unrelated sitting is not folded into anything
    assert (exam_stats(exam=second)["expected"], exam_stats(exam=second)["sat"]) == (15, 2)
    town = exam_stats(exam=main, unit=Unit.objects.get(code="B"))
    assert (town["expected"], town["sat"], town["passed"]) == (3, 2, 0)


def test_exam_stats_shows_the_makeups_own_figures_beside_the_main_exam(year):
    main, makeup, second = year
    with_makeup = exam_stats_with_makeup(exam=main)
    assert with_makeup["makeup"] == {"exam_id": makeup.pk, "name": makeup.name, **exam_stats(exam=makeup)}
    assert exam_stats_with_makeup(exam=makeup)["makeup_of"] == main.pk
    assert set(exam_stats_with_makeup(exam=second)) == set(exam_stats(exam=second))

    data = run_command("exam_stats", main.pk, "--json").json()
    assert (data["sat"], data["passed"], data["makeup"]["sat"], data["makeup"]["exam_id"]) == (9, 6, 4, makeup.pk)
    text = run_command("exam_stats", main.pk).out
    assert "以上含补考“学法用法考试（补考）”" in text and "实考 9" in text


def test_not_sat_lists_those_who_sat_neither(year):
    main, makeup, _ = year
    assert staff_nos(exam_not_sat(exam=main)) == {"0006", "0103", "0203", "0204", "0302"}
    assert staff_nos(exam_not_sat(exam=makeup)) == OWE_MAIN - {"0002", "0101", "0005", "0102"}
    listed = json.loads(run_command("not_sat", main.pk, "--format", "json").out)
    assert {e["staff_no"] for e in listed} == {"0006", "0103", "0203", "0204", "0302"}
    table = run_command("not_sat", main.pk).out
    assert "共 5 人未参考" in table and "已参加补考“学法用法考试（补考）”" in table and "补考自身实考 4 人" in table


def test_snapshots_hold_the_folded_figures_of_the_main_exam_and_the_makeups_own(year):
    main, makeup, second = year
    run = snapshotted = snapshots_refresh(exam_ids=[main.pk, makeup.pk, second.pk])
    for exam in (main, makeup, second):
        for rollup in (False, True):
            stored = {s.unit_id: s for s in ExamSnapshot.objects.filter(run=snapshotted, exam=exam, rollup=rollup)}
            for row in exam_stats_by_unit(exam=exam, rollup=rollup):
                assert {k: getattr(stored[row["unit_id"]], k) for k in EXAM_FIGURES} == {k: row[k] for k in EXAM_FIGURES}
    root = Unit.objects.get(code="D")
    (top,) = [r for r in participation_latest(exam=main) if r["unit_id"] == root.pk]
    assert {k: top[k] for k in EXAM_FIGURES} == exam_stats(exam=main) and top["makeup_of"] is None
    (mk,) = [r for r in participation_latest(exam=makeup) if r["unit_id"] == root.pk]
    assert (mk["sat"], mk["makeup_of"]) == (4, main.pk)
    assert run.rows


def test_the_annual_narrative_states_the_main_exam_with_its_makeup_and_the_second_sitting_apart(year):
    from reports.annual import annual_report_build

    main, _, _ = year
    narrative = annual_report_build(year=main.year)["narrative"]
    assert narrative.startswith(
        "组织测试区各部门、镇政府、教育系统参加学法用法考试两次："
        "“学法用法考试”9人参加，参考率64.3%，合格率66.7%，其中补考4人、合格2人；"
        "“学法用法专题考试”2人参加，参考率13.3%，合格率100%"
    ), narrative


# --- later changes ------------------------------------------------------------------------


def test_a_later_makeup_result_moves_the_main_exams_figures(year, staff):
    main, makeup, _ = year
    assert import_results(makeup, results_file([result_row(staff["0006"], 88)])).applied == 1
    figures = exam_stats(exam=main)
    assert (figures["sat"], figures["passed"], figures["not_sat"]) == (10, 7, 4)


def test_the_makeups_audience_follows_the_main_exams_later_results_on_commit(
    year, staff, django_capture_on_commit_callbacks
):
    """A late pass in the main exam takes the person out of the make-up (unless they have a
    result there already); a late exemption too."""
    main, makeup, _ = year
    with django_capture_on_commit_callbacks(execute=True):
        import_results(main, results_file([result_row(staff["0006"], 70), result_row(staff["0002"], 65)]))
    with django_capture_on_commit_callbacks(execute=True):
        import_exemptions(main, [exemption_row(staff["0103"])])
    # 0006 passed the main exam and had nothing in the make-up: gone; 0002 passed it too but sat
    # the make-up: kept; 0103 is exempt from the main exam: gone
    assert staff_nos(Candidate.objects.filter(exam=makeup)) == OWE_MAIN - {"0006", "0103"}
    assert exam_stats(exam=makeup)["expected"] == 8


def test_roster_joiners_join_open_exams_but_not_a_makeup(year, staff):
    main, makeup, second = year
    before = Candidate.objects.filter(exam=makeup).count()
    sync([*district(), Person("0901", "新人", new_id(), "A")])
    exams_refresh_open()
    assert Candidate.objects.filter(exam=second, staff__staff_no="0901", enrolled_via=EnrolledVia.JOINER).exists()
    assert Candidate.objects.filter(exam=makeup).count() == before


def test_unfolding_a_makeup_before_it_is_deleted_gives_the_main_exam_its_own_figures_back(year):
    """(The admin's delete calls it; it refuses to delete an exam with results anyway, since
    attempts are read-only there.)"""
    from exams.makeup import makeup_unfold

    main, makeup, _ = year
    assert makeup_unfold(makeup_ids=[makeup.pk]) == 4
    makeup.delete()
    figures = exam_stats(exam=main)
    assert (figures["expected"], figures["sat"], figures["passed"]) == (14, 7, 4)
    assert figures["average_score"] == pytest.approx(445 / 7)


def test_a_persons_record_shows_the_main_exam_passed_by_the_makeup_with_its_score(year):
    from records.selectors import year_entries
    from roster.models import Staff

    main, makeup, _ = year
    staff_id = Staff.objects.get(staff_no="0002").pk
    (entry,) = year_entries(staff_ids=[staff_id], year=main.year)[staff_id]
    exams = {e["exam_id"]: e for e in entry["exams"]}
    # failed the main exam with 50, passed its make-up with 75
    assert (exams[main.pk]["status"], exams[main.pk]["best_score"]) == ("passed", 75)
    assert (exams[makeup.pk]["status"], exams[makeup.pk]["best_score"]) == ("passed", 75)


def test_voiding_the_makeups_results_gives_the_main_exam_its_own_figures_back(year, staff):
    from sheets.voiding import import_void

    main, makeup, _ = year
    late = import_results(makeup, results_file([result_row(staff["0006"], 88)]))
    assert exam_stats(exam=main)["sat"] == 10
    import_void(import_id=late.import_id, reason="传错了考试")
    figures = exam_stats(exam=main)
    assert (figures["sat"], figures["passed"], figures["not_sat"]) == (9, 6, 5)
    assert "0006" in staff_nos(exam_not_sat(exam=main))
