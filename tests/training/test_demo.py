from __future__ import annotations

import pytest
from django.utils import timezone

from sheets.models import ImportRecord
from tests.helpers import run_command
from training.models import Attendance, TrainingEvent, TrainingKind
from training.selectors import hours_below, training_stats

pytestmark = pytest.mark.django_db


def test_demo_mirrors_the_annual_report_for_two_years():
    outcome = run_command("seed_demo")
    assert outcome.code == 0 and "培训演示数据" in outcome.out
    last_year = timezone.localdate().year - 1
    stats = training_stats(year=last_year)
    assert stats["by_kind"] == {
        TrainingKind.COURT_OBSERVATION: 1, TrainingKind.ENFORCEMENT_TRAINING: 2, TrainingKind.EXECUTIVE_MEETING: 1,
        TrainingKind.LECTURE: 3, TrainingKind.ONLINE_COURSE: 2, TrainingKind.STUDY_SESSION: 2,
    }
    assert stats["staff_trained"] > 1500 and stats["attendances"] > 5000
    assert set(Attendance.objects.values_list("status", flat=True)) == {"present", "late", "excused", "absent"}
    assert set(Attendance.objects.values_list("source", flat=True)) == {"sheet", "qr", "manual"}
    # some people reach the requirement, many do not
    below = hours_below(year=last_year).count()
    assert 200 < below < 1800
    # the sheet-imported lecture reports its duplicate and its visitor
    record = ImportRecord.objects.filter(kind="attendance").first()
    assert record.counts["duplicates"] == 1 and record.counts["unmatched"] == 1
    live = TrainingEvent.objects.get(date=timezone.localdate())
    assert live.signin_is_open()
