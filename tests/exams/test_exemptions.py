from __future__ import annotations

import pytest

from config.errors import DomainError
from exams.exemptions import candidates_exempt, candidates_lift_exemption
from exams.models import Candidate, EnrolledVia, ExamKind
from exams.selectors import exam_stats

from .conftest import exemption_row, import_exemptions, import_results, make_exam, result_row, results_file

pytestmark = pytest.mark.django_db


def candidate(exam, staff_no) -> Candidate:
    return Candidate.objects.get(exam=exam, staff__staff_no=staff_no)


def test_exemptions_name_staff_by_staff_no_or_id_number(exam, staff):
    result = import_exemptions(exam, [exemption_row(staff["0001"], "产假"), exemption_row(staff["0002"], "病假", by="id_number")])
    assert (result.applied, result.errors) == (2, [])
    assert (candidate(exam, "0001").exempt, candidate(exam, "0001").exempt_reason) == (True, "产假")
    assert candidate(exam, "0002").exempt_reason == "病假"


def test_exempt_candidates_leave_expected_but_stay_candidates(exam, staff):
    import_exemptions(exam, [exemption_row(staff["0001"])])
    figures = exam_stats(exam=exam)
    assert (figures["candidates"], figures["exempt"], figures["expected"]) == (15, 1, 14)


def test_the_name_must_agree_with_the_id_number(exam, staff):
    result = import_exemptions(exam, [exemption_row(staff["0001"], by="id_number", name="司法1")])
    assert (result.applied, result.conflicts) == (0, 1)
    assert result.errors[0]["kind"] == "conflict"
    assert not candidate(exam, "0001").exempt


def test_exempting_someone_who_already_sat_is_an_error(exam, staff):
    import_results(exam, results_file([result_row(staff["0001"], 70)]))
    result = import_exemptions(exam, [exemption_row(staff["0001"])])
    assert (result.applied, result.conflicts) == (0, 1)
    error = result.errors[0]
    assert (error["row"], error["column"], error["kind"]) == (2, "免考原因", "conflict")
    assert "已参加考试" in error["message"]
    assert not candidate(exam, "0001").exempt


def test_a_reason_is_required(exam, staff):
    result = import_exemptions(exam, [exemption_row(staff["0001"], "")])
    assert result.invalid == 1 and result.errors[0]["column"] == "免考原因"


def test_unknown_people_are_unmatched(exam, staff):
    result = import_exemptions(exam, [["9999", "", "无此人", "病假"]])
    assert result.unmatched == 1 and result.ran


def test_importing_the_same_list_twice_changes_nothing(exam, staff):
    rows = [exemption_row(staff["0001"])]
    import_exemptions(exam, rows)
    again = import_exemptions(exam, rows)
    assert (again.applied, again.duplicates) == (0, 1)


def test_exemption_for_someone_outside_the_audience_enrols_them_exempt(staff):
    exam = make_exam(kind=ExamKind.ENFORCEMENT_QUALIFICATION)
    result = import_exemptions(exam, [exemption_row(staff["0001"])])
    assert (result.applied, result.enrolled) == (1, 1)
    member = candidate(exam, "0001")
    assert member.exempt and member.enrolled_via == EnrolledVia.EXEMPTION


def test_exemptions_may_be_imported_after_the_window_closed(closed_exam, staff):
    assert import_exemptions(closed_exam, [exemption_row(staff["0001"])]).applied == 1


def test_lifting_an_exemption_lets_a_result_in(exam, staff):
    import_exemptions(exam, [exemption_row(staff["0001"])])
    assert import_results(exam, results_file([result_row(staff["0001"], 70)])).conflicts == 1
    candidates_lift_exemption(candidates=Candidate.objects.filter(exam=exam, staff__staff_no="0001"))
    assert import_results(exam, results_file([result_row(staff["0001"], 70)])).applied == 1


def test_marking_exempt_by_hand_needs_a_reason_and_refuses_those_who_sat(exam, staff):
    import_results(exam, results_file([result_row(staff["0002"], 70)]))
    chosen = Candidate.objects.filter(exam=exam, staff__staff_no__in=["0001", "0002"])
    with pytest.raises(DomainError, match="原因"):
        candidates_exempt(candidates=chosen, reason=" ")
    with pytest.raises(DomainError, match="已参加考试"):
        candidates_exempt(candidates=chosen, reason="病假")
    assert not Candidate.objects.filter(exam=exam, exempt=True).exists()
    assert candidates_exempt(candidates=chosen.filter(staff__staff_no="0001"), reason="病假") == 1
