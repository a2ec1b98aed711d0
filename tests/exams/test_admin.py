from __future__ import annotations

import pytest
from django.urls import reverse

from exams.models import Attempt, Candidate, Exam, ExamImport

from .conftest import import_results, result_row, results_file, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(exam, staff):
    import_results(exam, results_file([result_row(staff["0001"], 45), result_row(staff["0002"], "abc")]))
    return exam


def test_admin_pages_load_in_chinese(admin_client, imported):
    candidate = Candidate.objects.filter(exam=imported).first()
    record = ExamImport.objects.get()
    pages = [
        reverse("admin:exams_exam_changelist"),
        reverse("admin:exams_exam_change", args=[imported.pk]),
        reverse("admin:exams_exam_add"),
        reverse("admin:exams_candidate_changelist"),
        reverse("admin:exams_candidate_change", args=[candidate.pk]),
        reverse("admin:exams_attempt_changelist"),
        reverse("admin:exams_examimport_changelist"),
        reverse("admin:exams_examimport_change", args=[record.pk]),
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
    body = admin_client.get(reverse("admin:exams_examimport_change", args=[record.pk])).content.decode()
    assert "成绩不是数字" in body and "问题明细" in body
    assert "参考率" in admin_client.get(reverse("admin:exams_exam_change", args=[imported.pk])).content.decode()


@pytest.mark.parametrize("state", ["not_sat", "passed", "failed", "exempt", "left"])
def test_candidates_filter_by_exam_unit_and_state(admin_client, imported, state):
    url = reverse("admin:exams_candidate_changelist")
    response = admin_client.get(url, {"state": state, "exam__id__exact": imported.pk, "unit__id__exact": imported.candidates.first().unit_id})
    assert response.status_code == 200


def test_failed_filter_shows_those_whose_best_score_fails(admin_client, imported):
    response = admin_client.get(reverse("admin:exams_candidate_changelist"), {"state": "failed"})
    assert response.context["cl"].result_count == 1


def test_mark_exempt_with_a_reason_from_the_candidate_list(admin_client, imported):
    target = Candidate.objects.get(exam=imported, staff__staff_no="0003")
    response = admin_client.post(
        reverse("admin:exams_candidate_changelist"),
        {"action": "mark_exempt", "_selected_action": [target.pk], "reason": "援外借调"},
        follow=True,
    )
    assert response.status_code == 200
    target.refresh_from_db()
    assert (target.exempt, target.exempt_reason) == (True, "援外借调")


def test_mark_exempt_refuses_someone_who_sat(admin_client, imported):
    sat = Candidate.objects.get(exam=imported, staff__staff_no="0001")
    response = admin_client.post(
        reverse("admin:exams_candidate_changelist"),
        {"action": "mark_exempt", "_selected_action": [sat.pk], "reason": "病假"},
        follow=True,
    )
    assert "已参加考试" in response.content.decode()
    sat.refresh_from_db()
    assert not sat.exempt


def test_creating_an_exam_in_the_admin_enrols_its_audience(admin_client, staff):
    response = admin_client.post(reverse("admin:exams_exam_add"), {
        "name": "执法续职考试", "year": today().year, "kind": "enforcement_renewal", "audience": "",
        "pass_mark": "60", "max_score": "100", "opens_on": today().isoformat(), "closes_on": today().isoformat(),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    exam = Exam.objects.get(name="执法续职考试")
    assert exam.audience == "enforcement" and exam.candidates.count() == 5


def test_changing_the_pass_mark_in_the_admin_regrades_candidates(admin_client, imported):
    response = admin_client.post(reverse("admin:exams_exam_change", args=[imported.pk]), {
        "name": imported.name, "pass_mark": "40", "max_score": "100",
        "opens_on": imported.opens_on.isoformat(), "closes_on": imported.closes_on.isoformat(),
    })
    assert response.status_code == 302
    assert Candidate.objects.get(exam=imported, staff__staff_no="0001").passed


def test_attempts_and_import_records_are_read_only(admin_client, imported):
    attempt = Attempt.objects.get()
    response = admin_client.post(reverse("admin:exams_attempt_change", args=[attempt.pk]), {"score": "99"})
    attempt.refresh_from_db()
    assert response.status_code in (302, 403) and attempt.score == 45


def test_candidate_list_query_count_does_not_grow_with_rows(admin_client, imported, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        admin_client.get(reverse("admin:exams_candidate_changelist"))
