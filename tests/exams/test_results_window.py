"""Results inside the exam's window, and the warning (and audit record) of a late import."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditEvent
from exams.models import Attempt
from tests.exams.conftest import import_exemptions, import_results, make_exam, result_row, results_file
from tests.helpers import run_command

pytestmark = pytest.mark.django_db


def stamp(day: dt.date, clock: str = "09:30:00") -> str:
    return f"{day:%Y-%m-%d} {clock}"


def test_a_time_outside_the_window_is_invalid_and_names_the_window(staff):
    exam = make_exam(opens=-10, closes=-2)
    rows = [
        result_row(staff["0001"], 80, stamp(exam.opens_on, "00:00:01")),  # first second of the first day
        result_row(staff["0002"], 81, stamp(exam.closes_on, "23:59:59")),  # last second of the last day
        result_row(staff["0003"], 82, stamp(exam.opens_on - dt.timedelta(days=1), "23:59:59")),
        result_row(staff["0004"], 83, stamp(exam.closes_on + dt.timedelta(days=1), "00:00:00")),
        result_row(staff["0005"], 84, ""),  # no time: not checked against the window
    ]
    result = import_results(exam, results_file(rows))
    assert result.applied == 3 and result.invalid == 2
    bad = {e["row"]: e for e in result.errors}
    assert set(bad) == {4, 5}
    window = f"{exam.opens_on:%Y-%m-%d} 至 {exam.closes_on:%Y-%m-%d}"
    assert all(window in e["message"] and e["column"] == "交卷时间" and e["kind"] == "invalid" for e in bad.values())
    assert Attempt.objects.filter(exam=exam).count() == 3


def test_strict_refuses_a_file_with_a_time_outside_the_window(staff):
    exam = make_exam(opens=-10, closes=-2)
    rows = [result_row(staff["0001"], 80, stamp(exam.closes_on + dt.timedelta(days=3)))]
    result = import_results(exam, results_file(rows), strict=True)
    assert result.status == "refused" and Attempt.objects.count() == 0


def test_an_import_long_after_the_close_warns_and_is_audited(staff, settings, tmp_path):
    settings.EXAM_LATE_IMPORT_DAYS = 90
    old = make_exam(opens=-120, closes=-91, name="去年考试")
    result = import_results(old, results_file([result_row(staff["0001"], 80, stamp(old.closes_on))]))
    assert result.applied == 1
    assert any("截止" in w and "90" in w for w in result.warnings)
    event = AuditEvent.objects.get(action="late_import")
    assert str(old.pk) in event.target
    # the command's JSON carries it too
    path = tmp_path / "r.csv"
    path.write_bytes(results_file([result_row(staff["0002"], 70, stamp(old.closes_on))]))
    outcome = run_command("import_results", old.pk, path, "--json")
    assert outcome.code == 0 and any("截止" in w for w in outcome.json()["warnings"])
    assert AuditEvent.objects.filter(action="late_import").count() == 2
    # and on the import's page
    from django.test import Client

    from access.services import user_role_set

    role, _ = user_role_set(username="legal-late", role="legal_office", unit_code=None, password="x-Pass-12345")
    page = Client()
    page.force_login(role.user)
    html = page.get(f"/imports/{result.import_id}/").content.decode()
    assert "截止" in html and "审计" in html
    # exemptions as well
    exempt = import_exemptions(old, [["0103", "", staff["0103"].name, "病假"]])
    assert any("截止" in w for w in exempt.warnings)


def test_an_import_within_the_grace_period_has_no_warning(staff, settings):
    settings.EXAM_LATE_IMPORT_DAYS = 90
    recent = make_exam(opens=-40, closes=-30)
    result = import_results(recent, results_file([result_row(staff["0001"], 80, stamp(recent.closes_on))]))
    assert result.applied == 1 and not result.warnings
    assert not AuditEvent.objects.filter(action="late_import").exists()
