"""Renewal through the renewal exam, and the renewal exam's audience from the register."""

from __future__ import annotations

import datetime as dt

from certificates.models import Certificate, CertificateRenewal
from certificates.renewal import add_years
from exams.models import Candidate, ExamKind
from tests.certificates.conftest import add_cert
from tests.exams.conftest import import_results, make_exam, result_row, results_file, today
from tests.helpers import run_command


def _renewal_exam(**options):
    return make_exam(kind=ExamKind.ENFORCEMENT_RENEWAL, name="执法续职考试", opens=-20, closes=-1, **options)


def test_a_pass_renews_due_and_expired_certificates_and_a_fail_renews_nothing(staff):
    closes = today() - dt.timedelta(days=1)
    add_cert("0201", "桂执0201", expires=closes + dt.timedelta(days=30))    # due at close: passes
    add_cert("0202", "桂执0202", expires=closes - dt.timedelta(days=40))    # expired before the exam: passes
    add_cert("0203", "桂执0203", expires=closes + dt.timedelta(days=30))    # due, but fails
    add_cert("0204", "桂执0204", expires=closes + dt.timedelta(days=400))   # valid: not due
    add_cert("0201", "桂监0201", expires=closes, kind="supervision")        # not an enforcement certificate
    exam = _renewal_exam()
    people = staff
    import_results(exam, results_file([
        result_row(people["0201"], 90), result_row(people["0202"], 75), result_row(people["0203"], 30),
        result_row(people["0204"], 88),
    ]))
    outcome = run_command("renew_certificates", exam.pk, "--json")
    assert outcome.code == 0, outcome.err
    data = outcome.json()
    assert (data["exam_id"], data["renewed"], data["already_renewed"], data["not_due"]) == (exam.pk, 2, 0, 1)
    by_number = {c["number"]: c for c in data["certificates"]}
    assert set(by_number) == {"桂执0201", "桂执0202"}
    # the later of the old expiry and the closing date, plus one year
    assert by_number["桂执0201"]["new_expires_on"] == add_years(closes + dt.timedelta(days=30), 1).isoformat()
    assert by_number["桂执0202"]["old_expires_on"] == (closes - dt.timedelta(days=40)).isoformat()
    assert by_number["桂执0202"]["new_expires_on"] == add_years(closes, 1).isoformat()
    assert Certificate.objects.get(number="桂执0202").expires_on == add_years(closes, 1)
    assert Certificate.objects.get(number="桂执0203").expires_on == closes + dt.timedelta(days=30)
    renewal = CertificateRenewal.objects.get(certificate__number="桂执0202")
    assert (renewal.old_expires_on, renewal.new_expires_on) == (closes - dt.timedelta(days=40), add_years(closes, 1))
    assert Certificate.objects.get(number="桂执0202").changes.filter(kind="renewed").count() == 1


def test_a_second_run_changes_nothing(staff):
    closes = today() - dt.timedelta(days=1)
    add_cert("0201", "桂执0201", expires=closes)
    exam = _renewal_exam()
    import_results(exam, results_file([result_row(staff["0201"], 90)]))
    first = run_command("renew_certificates", exam.pk, "--json").json()
    expiry = Certificate.objects.get().expires_on
    second = run_command("renew_certificates", exam.pk, "--json").json()
    assert (first["renewed"], second["renewed"], second["already_renewed"]) == (1, 0, 1)
    assert Certificate.objects.get().expires_on == expiry and CertificateRenewal.objects.count() == 1


def test_dry_run_lists_without_renewing(staff):
    closes = today() - dt.timedelta(days=1)
    add_cert("0201", "桂执0201", expires=closes)
    exam = _renewal_exam()
    import_results(exam, results_file([result_row(staff["0201"], 90)]))
    data = run_command("renew_certificates", exam.pk, "--dry-run", "--json").json()
    assert data["renewed"] == 1 and data["dry_run"] is True
    assert not CertificateRenewal.objects.exists() and Certificate.objects.get().expires_on == closes


def test_an_exam_of_another_kind_exits_1(staff):
    exam = make_exam()
    outcome = run_command("renew_certificates", exam.pk)
    assert outcome.code == 1 and "执法续职考试" in outcome.err
    assert run_command("renew_certificates", "99999").code == 1


def test_the_audience_switches_to_the_register_once_it_is_used(staff):
    # roster 执法证号: 0101 and 0201..0204. Empty register: the roster decides.
    before = _renewal_exam()
    assert set(Candidate.objects.filter(exam=before).values_list("staff__staff_no", flat=True)) == {
        "0101", "0201", "0202", "0203", "0204"}
    opens = before.opens_on
    add_cert("0201", "桂执0201", expires=opens + dt.timedelta(days=300))    # valid on the opening date
    add_cert("0202", "桂执0202", expires=opens)                             # due on the opening date
    add_cert("0203", "桂执0203", expires=opens - dt.timedelta(days=1))      # expired: not in
    add_cert("0204", "桂执0204", expires=opens + dt.timedelta(days=300), status="revoked")  # revoked: not in
    add_cert("0301", "桂执0301", expires=opens + dt.timedelta(days=300))    # no roster number, but holds one
    add_cert("0302", "桂监0302", expires=opens + dt.timedelta(days=300), kind="supervision")  # not enforcement
    after = make_exam(kind=ExamKind.ENFORCEMENT_RENEWAL, name="执法续职考试（二）", opens=-20, closes=-1)
    assert set(Candidate.objects.filter(exam=after).values_list("staff__staff_no", flat=True)) == {
        "0201", "0202", "0301"}
    # other enforcement exams keep the roster's column
    qualification = make_exam(kind=ExamKind.ENFORCEMENT_QUALIFICATION, name="执法资格考试", opens=-20, closes=-1)
    assert Candidate.objects.filter(exam=qualification).count() == 5
