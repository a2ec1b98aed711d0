"""Voiding an import (void_import): exactly the rows it applied go, rows another import also
supplied stay, the figures follow, a dry run changes nothing, a second void is refused."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from audit.models import AuditAction, AuditEvent
from config.errors import DomainError, NotFound
from config.events import figures_changed_signal
from exams.models import Attempt, Candidate
from exams.selectors import exam_stats
from sheets.models import ImportKind, ImportRecord, ImportSupply
from sheets.services import import_record_create
from sheets.voiding import import_void
from tests.helpers import Person, new_id

from .conftest import exemption_row, import_exemptions, import_results, result_row, results_file, sync, today

pytestmark = pytest.mark.django_db


def at(n: int) -> str:
    return f"{today() - dt.timedelta(days=5) + dt.timedelta(days=n):%Y-%m-%d} 10:00"


def run(*args: str) -> tuple[int, str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("void_import", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def two_imports(exam, staff):
    """A: 0001, 0002, 0003 sat; B: 0003 (the same sitting as A's) and 0004."""
    a = import_results(exam, results_file([
        result_row(staff["0001"], 80, at(1)), result_row(staff["0002"], 50, at(1)), result_row(staff["0003"], 70, at(1)),
    ]), name="a.csv")
    b = import_results(exam, results_file([
        result_row(staff["0003"], 70, at(1)), result_row(staff["0004"], 90, at(2)),
    ]), name="b.csv")
    assert (a.applied, b.applied, b.duplicates) == (3, 1, 1)
    return a, b


def test_voiding_removes_what_the_import_applied_and_keeps_what_another_supplied(exam, staff, two_imports):
    a, b = two_imports
    before = exam_stats(exam=exam)
    assert before["sat"] == 4
    code, out, _ = run(str(a.import_id), "--json", "--reason", "错传了文件")
    assert code == 0
    assert json.loads(out) == {
        "import_id": a.import_id, "dry_run": False, "removed": {"attempts": 2, "exemptions": 0, "attendances": 0},
        "kept": 1,
    }
    # 0003's sitting was in B's file too: kept; 0001 and 0002 are back to not sat
    assert set(Attempt.objects.values_list("candidate__staff__staff_no", flat=True)) == {"0003", "0004"}
    c1 = Candidate.objects.get(exam=exam, staff__staff_no="0001")
    assert (c1.best_score, c1.attempt_count, c1.passed) == (None, 0, False)
    after = exam_stats(exam=exam)
    assert (after["sat"], after["passed"], after["expected"]) == (2, 2, before["expected"])
    record = ImportRecord.objects.get(pk=a.import_id)
    assert record.voided_at is not None and record.void_reason == "错传了文件"
    event = AuditEvent.objects.get(action=AuditAction.VOID_IMPORT)
    assert str(a.import_id) in event.target and event.rows == 2 and "错传了文件" in event.reason
    # then B: now 0003's sitting is B's alone and goes with it
    assert import_void(import_id=b.import_id).as_dict()["removed"]["attempts"] == 2
    assert not Attempt.objects.exists()
    assert exam_stats(exam=exam)["sat"] == 0


def test_a_retake_keeps_the_best_of_the_remaining_attempts(exam, staff):
    first = import_results(exam, results_file([result_row(staff["0001"], 55, at(1))]), name="1.csv")
    second = import_results(exam, results_file([result_row(staff["0001"], 85, at(2))]), name="2.csv")
    assert Candidate.objects.get(exam=exam, staff__staff_no="0001").best_score == Decimal("85")
    import_void(import_id=second.import_id)
    c = Candidate.objects.get(exam=exam, staff__staff_no="0001")
    assert (c.best_score, c.attempt_count, c.passed) == (Decimal("55"), 1, False)
    assert first.applied == 1


def test_a_dry_run_changes_nothing(exam, staff, two_imports):
    a, _ = two_imports
    attempts = sorted(Attempt.objects.values_list("id", flat=True))
    code, out, _ = run(str(a.import_id), "--dry-run", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["dry_run"] is True and body["removed"]["attempts"] == 2 and body["kept"] == 1
    assert sorted(Attempt.objects.values_list("id", flat=True)) == attempts
    assert ImportRecord.objects.get(pk=a.import_id).voided_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.VOID_IMPORT).exists()


def test_the_figures_are_refreshed_on_commit(exam, staff, two_imports, django_capture_on_commit_callbacks):
    a, _ = two_imports
    heard = []

    def receiver(sender, **kwargs):
        heard.append((kwargs["kind"], kwargs["exam_id"]))

    figures_changed_signal.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            import_void(import_id=a.import_id)
    finally:
        figures_changed_signal.disconnect(receiver)
    assert ("exam", exam.pk) in heard


def test_a_second_void_is_refused(exam, staff, two_imports):
    a, _ = two_imports
    assert run(str(a.import_id))[0] == 0
    code, _, err = run(str(a.import_id))
    assert code == 1 and "已" in err and "撤销" in err
    with pytest.raises(DomainError) as caught:
        import_void(import_id=a.import_id)
    assert caught.value.code == "conflict"


def test_unknown_ids_wrong_kinds_and_old_imports_are_refused(exam, staff, two_imports):
    assert run("999999")[0] == 1
    assert "不存在" in run("999999")[2]
    assert run("abc")[0] == 1
    with pytest.raises(NotFound):
        import_void(import_id=999999)
    cert = import_record_create(kind=ImportKind.CERTIFICATES, file=b"x", file_name="c.csv")
    cert.status = "succeeded"
    cert.save()
    code, _, err = run(str(cert.pk))
    assert code == 1 and "不能撤销" in err
    # an import made before provenance was recorded: refused, nothing removed
    a, _ = two_imports
    ImportRecord.objects.filter(pk=a.import_id).update(supplies_recorded=False)
    code, _, err = run(str(a.import_id))
    assert code == 1 and "无法确定" in err
    assert Attempt.objects.count() == 4


def test_voiding_an_exemptions_import(exam, staff):
    a = import_exemptions(exam, [exemption_row(staff["0005"]), exemption_row(staff["0006"], "借调")])
    b = import_exemptions(exam, [exemption_row(staff["0006"], "借调")])
    assert (a.applied, b.duplicates) == (2, 1)
    assert exam_stats(exam=exam)["exempt"] == 2
    result = import_void(import_id=a.import_id)
    assert result.as_dict()["removed"] == {"attempts": 0, "exemptions": 1, "attendances": 0}
    assert result.kept == 1
    assert set(Candidate.objects.filter(exam=exam, exempt=True).values_list("staff__staff_no", flat=True)) == {"0006"}
    assert exam_stats(exam=exam)["exempt"] == 1


def test_a_candidate_the_import_enrolled_goes_with_its_result(closed_exam, staff):
    # a joiner after the close sat anyway: the result enrolled them; voiding takes both away
    newcomer = Person("0999", "新人", new_id(), "A")
    sync([*staff.values(), newcomer])
    day = f"{closed_exam.opens_on:%Y-%m-%d} 10:00"
    before = exam_stats(exam=closed_exam)
    result = import_results(closed_exam, results_file([result_row(newcomer, 88, day)]))
    assert result.enrolled == 1
    import_void(import_id=result.import_id)
    assert not Candidate.objects.filter(exam=closed_exam, staff__staff_no="0999").exists()
    assert exam_stats(exam=closed_exam) == before


def test_the_imports_record_what_they_supplied(exam, staff, two_imports):
    a, b = two_imports
    assert ImportSupply.objects.filter(import_record_id=a.import_id, applied=True).count() == 3
    assert ImportSupply.objects.filter(import_record_id=b.import_id, applied=True).count() == 1
    assert ImportSupply.objects.filter(import_record_id=b.import_id, applied=False).count() == 1


def test_a_candidate_an_exemption_enrolled_goes_with_the_exemption(staff):
    from exams.models import Audience

    from .conftest import make_exam

    heads = make_exam(audience=Audience.HEADS, name="正职考试")
    before = exam_stats(exam=heads)
    result = import_exemptions(heads, [exemption_row(staff["0002"], "借调")])
    assert result.enrolled == 1
    import_void(import_id=result.import_id)
    assert not Candidate.objects.filter(exam=heads, staff__staff_no="0002").exists()
    assert exam_stats(exam=heads) == before
