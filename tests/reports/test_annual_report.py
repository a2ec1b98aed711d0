"""The annual report's JSON: exactly the issue's keys, the hand-checked figures, the
narrative, and a past year that does not move when this year's roster changes."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.utils import timezone

from exams.creation import exam_create
from exams.selectors import exam_stats
from reports.annual import annual_report_build
from reports.narrative import annual_narrative, percent
from roster.models import Staff, Unit
from roster.units import units_rebuild_paths
from tests.exams.conftest import import_results, result_row, results_file
from tests.exams.conftest import sync as roster_sync_people
from tests.helpers import Person, new_id
from training.events import training_event_create
from training.models import AttendanceStatus, TrainingKind

from .conftest import attend, hand_people

pytestmark = pytest.mark.django_db

FIGURES = {"candidates", "exempt", "expected", "sat", "not_sat", "passed", "failed", "participation_rate", "pass_rate",
           "average_score"}


def test_the_report_has_exactly_the_issues_keys(district):
    report = annual_report_build(year=district.year)
    assert set(report) == {"year", "staff", "exams", "training", "certificates", "narrative"}
    assert set(report["staff"]) == {"active", "as_of", "by_unit_kind"}
    (exam,) = report["exams"]
    assert set(exam) == {"id", "name", "kind", "by_unit", "by_unit_kind"} | FIGURES
    assert all(set(entry) == {"unit_code", "unit_name", "kind"} | FIGURES for entry in exam["by_unit"])
    assert all(set(figures) == FIGURES for figures in exam["by_unit_kind"].values())
    assert set(report["training"]) == {"events", "by_kind", "attendances", "staff_trained", "person_hours",
                                       "court_observation"}
    assert set(report["training"]["court_observation"]) == {"events", "head_attendances"}
    json.dumps(report)  # plain JSON values only


def test_the_report_holds_the_hand_checked_figures(district):
    report = annual_report_build(year=district.year)
    assert report["year"] == district.year
    assert report["staff"] == {
        "active": 9, "as_of": timezone.localdate().isoformat(),
        "by_unit_kind": {"department": 4, "town": 3, "education": 2},
    }
    (exam,) = report["exams"]
    assert (exam["id"], exam["name"], exam["kind"]) == (district.exam.pk, "学法用法考试", "annual_law")
    assert {k: exam[k] for k in FIGURES} == exam_stats(exam=district.exam)
    assert (exam["expected"], exam["sat"], exam["passed"], exam["average_score"]) == (9, 8, 7, 76.0)
    # one entry per top-level unit (children of the root), rolled up
    assert [(u["unit_code"], u["kind"], u["candidates"], u["sat"]) for u in exam["by_unit"]] == [
        ("A", "department", 4, 2), ("B", "department", 2, 2), ("T", "town", 3, 2), ("E", "education", 2, 2)
    ]
    assert {k: (f["expected"], f["sat"], f["passed"]) for k, f in exam["by_unit_kind"].items()} == {
        "department": (4, 4, 4), "town": (3, 2, 2), "education": (2, 2, 1)
    }
    assert exam["by_unit_kind"]["department"]["average_score"] == pytest.approx((80 + 90 + 65 + 70) / 4)
    assert report["training"] == {
        "events": 3, "by_kind": {"court_observation": 1, "lecture": 2}, "attendances": 7, "staff_trained": 4,
        "person_hours": 15, "court_observation": {"events": 1, "head_attendances": 1},
    }
    assert report["narrative"] == (
        "组织测试区各部门、镇政府、教育系统合计8人参加学法用法考试，参考率88.9%，合格率87.5%；"
        "开展专题讲座2场，组织单位正职旁听庭审1次，累计参训7人次、15学时。"
    )


def _report(**overrides):
    report = {
        "year": 2023,
        "exams": [{
            "kind": "annual_law", "sat": 2080, "expected": 2107, "passed": 2063,
            "by_unit": [{"kind": "department", "candidates": 900}, {"kind": "town", "candidates": 300},
                        {"kind": "town", "candidates": 250}, {"kind": "education", "candidates": 700}],
        }],
        "training": {
            "by_kind": {"executive_meeting": 1, "study_session": 2, "lecture": 3, "court_observation": 1},
            "attendances": 512, "person_hours": 1168, "court_observation": {"events": 1, "head_attendances": 28},
        },
    }
    report.update(overrides)
    return report


def test_the_narrative_reads_like_the_annual_report():
    assert annual_narrative(_report(), district="柳东新区") == (
        "组织新区各部门、两镇政府、教育系统合计2080人参加学法用法考试，参考率98.7%，合格率99.2%；"
        "开展常务会专题法治讲座1次、法治专题学习2次、专题讲座3场，组织单位正职旁听庭审1次，累计参训512人次、1168学时。"
    )


def test_each_clause_of_the_narrative_appears_only_when_its_number_is_not_zero():
    training = {"by_kind": {"lecture": 3}, "attendances": 0, "person_hours": 0, "court_observation": {"events": 0}}
    assert annual_narrative(_report(training=training), district="柳东新区") == (
        "组织新区各部门、两镇政府、教育系统合计2080人参加学法用法考试，参考率98.7%，合格率99.2%；开展专题讲座3场。"
    )
    no_exam = _report(exams=[{"kind": "annual_law", "sat": 0, "expected": 10, "passed": 0, "by_unit": []}])
    assert annual_narrative(no_exam, district="柳东新区").startswith("开展常务会专题法治讲座1次")
    renewal = _report(exams=[{"kind": "enforcement_renewal", "sat": 136, "expected": 140, "passed": 130, "by_unit": []}])
    assert annual_narrative(renewal).startswith("组织执法人员参加执法续职考试136人；开展")
    assert annual_narrative({"year": 2023, "exams": [], "training": {}}) == "2023年度暂无学法用法考试和法治培训记录。"


def test_rates_are_written_with_one_decimal_rounded_half_up():
    assert [percent(r) for r in (0.9865, 0.99, 1.0, 2 / 3, 0.0005)] == ["98.7%", "99%", "100%", "66.7%", "0.1%"]


def test_a_past_year_does_not_change_when_this_years_roster_changes(units):
    """Last year's exam (closed) and training, then this year: people move, leave, join, and a
    head stops being head. Last year's report is the same, its staff count (as of 31 December,
    from the roster history) included."""
    last = timezone.localdate().year - 1
    people = hand_people()
    people[5].is_head = "是"  # 0101, B's head last year
    roster_sync_people(people)
    exam = exam_create(name="学法用法考试", year=last, kind="annual_law", opens_on=dt.date(last, 11, 1),
                       closes_on=dt.date(last, 11, 30))
    rows = [result_row(p, 55 + 5 * i, f"{last}-11-{10 + i:02d} 09:00") for i, p in enumerate(people[:8])]
    assert import_results(exam, results_file(rows)).applied == 8
    court = training_event_create(title="旁听庭审", kind=TrainingKind.COURT_OBSERVATION, date=dt.date(last, 6, 1),
                                  hours="3")
    attend(court, ["0001", "0101", "0201"])
    lecture = training_event_create(title="讲座", kind=TrainingKind.LECTURE, date=dt.date(last, 9, 1), hours="2")
    attend(lecture, ["0001", "0002", "0101", "0211"])
    attend(lecture, ["0301"], AttendanceStatus.ABSENT)
    before = annual_report_build(year=last)
    assert before["training"]["court_observation"] == {"events": 1, "head_attendances": 2}
    assert [(u["unit_code"], u["sat"]) for u in before["exams"][0]["by_unit"]] == [("A", 5), ("B", 1), ("T", 2), ("E", 0)]

    # this year: 0001 and 0101 are no longer heads (0001 moves to B, 0101 to S1), 0201 (who
    # observed the hearing as a non-head) becomes one, 0004 and 0211 leave, a unit is created
    # and three people join
    changed = [p for p in people if p.staff_no not in ("0004", "0211")]
    by_no = {p.staff_no: p for p in changed}
    by_no["0001"].is_head, by_no["0001"].unit = "否", "B"
    by_no["0101"].is_head, by_no["0101"].unit = "否", "S1"
    by_no["0201"].is_head = "是"
    new_unit = Unit.objects.create(code="N", name="新设局", parent=Unit.objects.get(code="D"), kind="department")
    units_rebuild_paths()
    changed += [Person("0900", "新人一", new_id(), "A"), Person("0901", "新人二", new_id(), "T1"),
                Person("0902", "新人三", new_id(), new_unit.code)]
    roster_sync_people(changed, allow_mass_deactivation=True)
    assert not Staff.objects.get(staff_no="0001").is_head and Staff.objects.get(staff_no="0201").is_head

    after = annual_report_build(year=last)
    assert before["staff"] == {"active": 11, "as_of": f"{last}-12-31",
                               "by_unit_kind": {"department": 6, "town": 3, "education": 2}}
    assert after == before
    assert annual_report_build(year=last + 1)["staff"]["active"] == 12  # now: 11 - 2 + 3


def test_a_past_years_staff_count_is_the_roster_on_31_december(units):
    """The people of the first sync (joining date unknown) count; someone who joined during
    that year counts, someone who joined this year does not; someone who left during that year
    does not count, someone who left this year does."""
    from docx import Document

    from reports.annual import annual_report_render
    from roster.models import StaffChange

    last = timezone.localdate().year - 1
    people = hand_people()
    roster_sync_people(people)
    joiners = [Person("0900", "新人一", new_id(), "A"), Person("0901", "新人二", new_id(), "T1"),
               Person("0902", "新人三", new_id(), "S1")]
    staying = [p for p in people if p.staff_no not in ("0004", "0005")]
    roster_sync_people(staying + joiners, allow_mass_deactivation=True)
    # 0901 joined in the middle of last year; 0005 left last March (0004 left this year)
    Staff.objects.filter(staff_no="0901").update(joined_on=dt.date(last, 6, 1))
    StaffChange.objects.filter(staff__staff_no="0005", field="is_active").update(
        changed_at=timezone.make_aware(dt.datetime(last, 3, 1, 9)))
    Staff.objects.filter(staff_no="0005").update(left_on=dt.date(last, 3, 1))

    now = annual_report_build(year=last + 1)["staff"]
    then = annual_report_build(year=last)["staff"]
    assert (now["active"], now["as_of"]) == (12, timezone.localdate().isoformat())
    assert then == {"active": 11, "as_of": f"{last}-12-31",
                    "by_unit_kind": {"department": 5, "town": 4, "education": 2}}
    assert then["active"] != Staff.objects.filter(is_active=True).count()
    document = Document(io.BytesIO(annual_report_render(report=annual_report_build(year=last), format="docx")))
    assert f"截至{last}年12月31日，在册人员11人。" in [p.text for p in document.paragraphs]


def test_a_year_without_data_gives_an_empty_report(units):
    report = annual_report_build(year=2001)
    assert (report["exams"], report["training"]["events"], report["training"]["person_hours"]) == ([], 0, 0)
    assert report["narrative"] == "2001年度暂无学法用法考试和法治培训记录。"


def test_every_top_level_unit_that_stood_during_the_exam_has_an_entry_even_with_nobody_to_sit(units):
    """An enforcement exam that only A's officers sit: B, T and E still appear, with zeros; a
    unit created after the exam closed does not."""
    people = hand_people()
    people[0].cert, people[1].cert = "执法001", "执法002"
    roster_sync_people(people)
    year = timezone.localdate().year
    exam = exam_create(name="执法资格考试", year=year, kind="enforcement_qualification",
                       opens_on=timezone.localdate() - dt.timedelta(days=20),
                       closes_on=timezone.localdate() - dt.timedelta(days=10))
    assert import_results(exam, results_file([result_row(people[0], 90, f"{exam.opens_on:%Y-%m-%d} 09:00")])).applied == 1
    Unit.objects.filter(code__in=["A", "B", "T", "E"]).update(created_at=timezone.now() - dt.timedelta(days=400))
    Unit.objects.create(code="N", name="新设局", parent=Unit.objects.get(code="D"), kind="department")
    units_rebuild_paths()

    (entry,) = annual_report_build(year=year)["exams"]
    assert [(u["unit_code"], u["candidates"], u["expected"], u["sat"], u["participation_rate"]) for u in entry["by_unit"]] == [
        ("A", 2, 2, 1, 0.5), ("B", 0, 0, 0, None), ("T", 0, 0, 0, None), ("E", 0, 0, 0, None)
    ]
    assert {k: f["expected"] for k, f in entry["by_unit_kind"].items()} == {"department": 2, "town": 0, "education": 0}
