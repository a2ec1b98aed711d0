"""Hours targets per 人员类别 and the training kinds as data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from config.errors import DomainError
from records.selectors import staff_record
from reports.selectors import training_unit_counts
from roster.models import Staff, Unit
from training.attendance import attendance_record
from training.events import study_hours_requirement_set, training_event_create
from training.exports import hours_rows
from training.models import EventKind, TrainingKind, TrainingTarget, kind_choices
from training.selectors import default_required_hours, hours_below, training_stats
from training.targets import training_target_set

pytestmark = pytest.mark.django_db
YEAR = 2024


def attend(event, *staff_nos):
    ids = list(Staff.objects.filter(staff_no__in=staff_nos).values_list("pk", flat=True))
    attendance_record(event=event, staff_ids=ids, status="present")


@pytest.fixture
def lectures(staff):
    """0001 has 30 hours, 0002 10, the others 0 (0008 has left)."""
    big = training_event_create(title="执法培训", kind=TrainingKind.ENFORCEMENT_TRAINING, date=dt.date(YEAR, 3, 1), hours="20")
    small = training_event_create(title="讲座", kind=TrainingKind.LECTURE, date=dt.date(YEAR, 4, 1), hours="10")
    attend(big, "0001")
    attend(small, "0001", "0002")
    Staff.objects.filter(staff_no__in=["0001", "0002"]).update(category="公务员")
    Staff.objects.filter(staff_no="0003").update(category="工勤")
    return big, small


def below(**kw) -> dict[str, Decimal]:
    return {row["staff_no"]: row["required_hours"] for row in hours_rows(hours_below(year=YEAR, **kw))}


def test_without_targets_the_yearly_setting_applies_unchanged(lectures):
    assert default_required_hours(year=YEAR) == Decimal("40")
    assert below() == {n: 40 for n in ("0001", "0002", "0003", "0004", "0005", "0006", "0007")}
    study_hours_requirement_set(year=YEAR, hours="25")
    assert set(below()) == {"0002", "0003", "0004", "0005", "0006", "0007"}
    # a default row replaces the setting
    training_target_set(year=YEAR, category=None, hours="5")
    assert set(below()) == {"0003", "0004", "0005", "0006", "0007"}


def test_a_category_target_applies_to_its_people_and_the_default_to_the_rest(lectures):
    training_target_set(year=YEAR, category="公务员", hours="35")
    training_target_set(year=YEAR, category="工勤", hours="0")
    rows = below()
    # 0001 (30 < 35) and 0002 are below their category's 35; 0003 needs 0; the rest 40
    assert rows == {"0001": 35, "0002": 35, "0004": 40, "0005": 40, "0006": 40, "0007": 40}
    # another year is untouched
    assert {r["staff_no"] for r in hours_rows(hours_below(year=YEAR + 1))} >= {"0001", "0003"}


def test_the_per_unit_figures_equal_hours_below_with_targets(lectures):
    training_target_set(year=YEAR, category="公务员", hours="35")
    training_target_set(year=YEAR, category="工勤", hours="0")
    training_target_set(year=YEAR, category=None, hours="12")
    counts = training_unit_counts(year=YEAR)
    for unit in Unit.objects.all():
        expected = hours_below(year=YEAR, unit=unit).count()
        got = counts.get((unit.pk, True), {}).get("staff_below_hours", 0)
        assert got == expected, unit.code


def test_the_learning_record_uses_the_persons_target(lectures):
    training_target_set(year=YEAR, category="公务员", hours="35")
    person = Staff.objects.select_related("unit").get(staff_no="0002")
    year = staff_record(staff=person, year=YEAR)["years"][0]
    assert year["required_hours"] == 35 and year["missing_hours"] == 25


def test_hours_below_is_one_query_with_targets(lectures, django_assert_num_queries):
    training_target_set(year=YEAR, category="公务员", hours="35")
    with django_assert_num_queries(1):
        hours_rows(hours_below(year=YEAR))


def test_target_rules(db):
    training_target_set(year=YEAR, category=" 公务员 ", hours="30")
    training_target_set(year=YEAR, category="公务员", hours="32")
    assert TrainingTarget.objects.get(year=YEAR, category="公务员").hours == Decimal("32")
    training_target_set(year=YEAR, category="", hours="20")
    training_target_set(year=YEAR, category=None, hours="22")
    assert TrainingTarget.objects.filter(year=YEAR, category__isnull=True).count() == 1
    for bad in ("-1", "abc", "1e9"):
        with pytest.raises(DomainError):
            training_target_set(year=YEAR, category="x", hours=bad)
    with pytest.raises(DomainError):
        training_target_set(year=1999, category="x", hours="1")


def test_command_lists_each_persons_required_hours(lectures, capsys, tmp_path):
    training_target_set(year=YEAR, category="公务员", hours="35")
    call_command("hours_below", str(YEAR), "--format", "json")
    import json

    payload = json.loads(capsys.readouterr().out)
    by_no = {row["staff_no"]: row for row in payload["staff"]}
    assert by_no["0001"]["required_hours"] == 35 and by_no["0001"]["missing_hours"] == 5
    assert by_no["0004"]["required_hours"] == 40


# --- kinds -----------------------------------------------------------------------------


def test_the_kinds_table_is_seeded_with_todays_codes_and_the_two_new_ones(db):
    codes = set(EventKind.objects.values_list("code", flat=True))
    assert {"executive_meeting", "study_session", "lecture", "court_observation", "enforcement_training",
            "online_course", "leader_law_report", "court_appearance"} <= codes
    names = dict(EventKind.objects.values_list("code", "name"))
    assert names["leader_law_report"] == "述法" and names["court_appearance"] == "出庭应诉"


def test_a_kind_added_as_data_is_accepted_and_counted(staff):
    EventKind.objects.create(code="law_quiz", name="法律知识竞赛", sort_order=90)
    assert ("law_quiz", "法律知识竞赛") in kind_choices()
    event = training_event_create(title="竞赛", kind="law_quiz", date=dt.date(YEAR, 6, 1), hours="2")
    attend(event, "0001")
    stats = training_stats(year=YEAR)
    assert stats["by_kind"] == {"law_quiz": 1} and stats["person_hours"] == Decimal("2")
    with pytest.raises(DomainError, match="培训类型“nonsense”无效"):
        training_event_create(title="x", kind="nonsense", date=dt.date(YEAR, 6, 1), hours="2")


def test_a_kind_that_counts_no_hours_counts_attendance_but_not_hours(staff):
    report = training_event_create(title="述法会", kind=TrainingKind.LEADER_LAW_REPORT, date=dt.date(YEAR, 2, 1),
                                   hours="3")
    lecture = training_event_create(title="讲座", kind=TrainingKind.LECTURE, date=dt.date(YEAR, 2, 2), hours="2")
    attend(report, "0001")
    attend(lecture, "0001")
    stats = training_stats(year=YEAR)
    assert stats["by_kind"] == {"leader_law_report": 1, "lecture": 1}
    assert stats["attendances"] == 2 and stats["person_hours"] == Decimal("2")
    EventKind.objects.filter(code="leader_law_report").update(counts_hours=True)
    assert training_stats(year=YEAR)["person_hours"] == Decimal("5")


def test_the_annual_report_names_every_kind_with_events(staff):
    from reports.annual import annual_report_build
    from reports.narrative import annual_narrative
    from reports.render import training_rows

    for title, kind in (("述法", TrainingKind.LEADER_LAW_REPORT), ("应诉", TrainingKind.COURT_APPEARANCE)):
        attend(training_event_create(title=title, kind=kind, date=dt.date(YEAR, 5, 1), hours="1"), "0001")
    report = annual_report_build(year=YEAR)
    assert report["training"]["by_kind"] == {"court_appearance": 1, "leader_law_report": 1}
    labels = [label for label, _ in training_rows(report)]
    assert "其中：述法" in labels and "其中：出庭应诉" in labels
    text = annual_narrative(report)
    assert "领导干部述法1次" in text and "负责人出庭应诉1次" in text
