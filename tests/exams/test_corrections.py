"""Corrections of an exam by hand (exams.corrections): edit (a new pass mark re-derives passed),
delete one nobody has sat (refused in Chinese otherwise), lift an exemption or add one with
its reason. Each writes one audit record and announces the figures on commit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditAction, AuditEvent
from config.errors import DomainError
from exams.corrections import exam_correct, exam_delete, exemption_add, exemption_lift
from exams.models import Candidate, Exam
from exams.selectors import exam_stats
from reports.models import ExamSnapshot
from reports.snapshots import snapshots_refresh
from roster.models import Staff

from .conftest import exemption_row, import_exemptions, import_results, result_row, results_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(db):
    return get_user_model().objects.create_user("office", password="x")


def corrections() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.CORRECTION).order_by("id"))


def test_a_new_pass_mark_re_derives_passed_and_the_figures(exam, staff, office, django_capture_on_commit_callbacks):
    people = list(staff.values())
    assert import_results(exam, results_file([result_row(people[0], 65), result_row(people[1], 80)])).applied
    assert exam_stats(exam=exam)["passed"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        snapshots_refresh(exam_ids=[exam.pk])
    assert ExamSnapshot.objects.filter(exam=exam, passed=2).exists()
    with django_capture_on_commit_callbacks(execute=True):
        changed = exam_correct(exam=exam, user=office, pass_mark="70", name="学法用法考试（补）", reason="按通知调整")
    assert changed.pass_mark == Decimal("70") and Exam.objects.get(pk=exam.pk).name == "学法用法考试（补）"
    assert exam_stats(exam=exam)["passed"] == 1
    assert not Candidate.objects.get(exam=exam, staff__staff_no=people[0].staff_no).passed
    [record] = corrections()
    assert record.target == f"exam:{exam.pk}" and record.user == office
    assert "合格分数线：60 → 70" in record.reason and "按通知调整" in record.reason
    # the snapshots were refreshed once the change committed (eager Celery: at once)
    latest = ExamSnapshot.objects.filter(exam=exam, unit__parent__isnull=True, rollup=True).order_by("-computed_at").first()
    assert latest is not None and latest.passed == 1


def test_an_edit_that_changes_nothing_writes_no_audit_record(exam, office):
    exam_correct(exam=exam, user=office, name=exam.name, pass_mark=exam.pass_mark)
    assert corrections() == []


def test_an_edit_is_checked_like_a_new_exam(exam, office):
    with pytest.raises(DomainError, match="不能晚于截止日期"):
        exam_correct(exam=exam, user=office, opens_on=exam.closes_on, closes_on=exam.opens_on)
    with pytest.raises(DomainError, match="合格分数线应在"):
        exam_correct(exam=exam, user=office, pass_mark="120")
    assert corrections() == [] and Exam.objects.get(pk=exam.pk).pass_mark == Decimal("60")


def test_an_exam_nobody_sat_is_deleted_with_its_candidates(exam, staff, office):
    count = Candidate.objects.filter(exam=exam).count()
    assert exam_delete(exam=exam, user=office, reason="重复创建") == count
    assert not Exam.objects.filter(pk=exam.pk).exists() and not Candidate.objects.filter(exam_id=exam.pk).exists()
    [record] = corrections()
    assert record.rows == count and "删除考试" in record.reason and "重复创建" in record.reason


def test_an_exam_with_attempts_is_not_deleted(exam, staff, office):
    person = next(iter(staff.values()))
    assert import_results(exam, results_file([result_row(person, 88)])).applied
    with pytest.raises(DomainError, match="已有 1 条成绩记录，不能删除") as refused:
        exam_delete(exam=exam, user=office)
    assert refused.value.code == "conflict"
    assert Exam.objects.filter(pk=exam.pk).exists() and corrections() == []


def test_lifting_an_exemption_makes_the_person_expected_again(exam, staff, office):
    person = next(iter(staff.values()))
    assert import_exemptions(exam, [exemption_row(person, "长期病假")]).applied
    before = exam_stats(exam=exam)
    candidate = Candidate.objects.get(exam=exam, staff__staff_no=person.staff_no)
    lifted = exemption_lift(candidate=candidate, user=office, reason="已返岗")
    assert not lifted.exempt and lifted.exempt_reason == ""
    after = exam_stats(exam=exam)
    assert (after["exempt"], after["expected"]) == (before["exempt"] - 1, before["expected"] + 1)
    [record] = corrections()
    assert record.target == f"exam:{exam.pk}:exemption:{person.staff_no}" and "长期病假" in record.reason
    with pytest.raises(DomainError, match="不是该考试的免考人员"):
        exemption_lift(candidate=candidate, user=office)


def test_an_exemption_added_by_hand_carries_its_reason(exam, staff, office):
    person = next(iter(staff.values()))
    candidate = exemption_add(exam=exam, staff=Staff.objects.get(staff_no=person.staff_no), reason="援藏", user=office)
    assert candidate.exempt and candidate.exempt_reason == "援藏"
    assert exam_stats(exam=exam)["exempt"] == 1
    [record] = corrections()
    assert "援藏" in record.reason and record.target.endswith(person.staff_no)


def test_an_exemption_needs_a_reason_without_an_id_number_and_not_for_someone_who_sat(exam, staff, office):
    people = list(staff.values())
    first = Staff.objects.get(staff_no=people[0].staff_no)
    with pytest.raises(DomainError, match="请填写免考原因"):
        exemption_add(exam=exam, staff=first, reason=" ", user=office)
    with pytest.raises(DomainError, match="身份证号"):
        exemption_add(exam=exam, staff=first, reason=f"见 {people[0].id_number}", user=office)
    assert import_results(exam, results_file([result_row(people[1], 70)])).applied
    with pytest.raises(DomainError, match="已参加考试的人员不能免考"):
        exemption_add(exam=exam, staff=Staff.objects.get(staff_no=people[1].staff_no), reason="病假", user=office)
    assert corrections() == [] and not Candidate.objects.filter(exam=exam, exempt=True).exists()


def test_an_exemption_enrols_someone_outside_the_audience(staff, office):
    from exams.models import ExamKind

    from .conftest import make_exam

    exam = make_exam(kind=ExamKind.ENFORCEMENT_QUALIFICATION, name="执法资格考试")
    outsider = Staff.objects.filter(enforcement_cert="").exclude(candidacies__exam=exam).first()
    assert outsider is not None
    candidate = exemption_add(exam=exam, staff=outsider, reason="调离执法岗位", user=office)
    assert candidate.exempt and candidate.enrolled_via == "exemption"
    assert "已登记" in corrections()[0].reason


def test_an_edit_to_another_exams_name_is_refused(exam, office):
    from .conftest import make_exam

    other = make_exam(name="第二场考试")
    with pytest.raises(DomainError, match="已有同名考试") as refused:
        exam_correct(exam=other, user=office, name=exam.name)
    assert refused.value.code == "conflict" and corrections() == []
