from __future__ import annotations

import pytest

from exams.models import Attempt, Candidate, Exam, ExamKind
from exams.selectors import exam_stats
from tests.helpers import run_command

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_an_open_law_exam_most_have_sat_and_a_closed_one_from_last_year():
    outcome = run_command("seed_demo")
    assert outcome.code == 0, outcome.err
    assert "考试演示数据" in outcome.out
    law = Exam.objects.filter(kind=ExamKind.ANNUAL_LAW).order_by("-year")
    current, last = law[0], law[1]
    assert current.is_open() and last.is_closed() and last.year == current.year - 1
    figures = exam_stats(exam=current)
    assert figures["participation_rate"] > 0.7 and figures["not_sat"] > 0
    assert figures["exempt"] > 0 and figures["failed"] > 0
    assert Candidate.objects.filter(exam=current, attempt_count__gt=1).exists()  # retakes
    assert exam_stats(exam=last)["participation_rate"] > 0.9
    assert Attempt.objects.filter(exam=last).exists()
