"""Dry runs of results and exemptions imports (the web pages' preview), and confirming one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from config.errors import DomainError
from config.jobs import JobStatus
from exams.imports import exam_import_confirm, exam_import_create, exam_import_run
from exams.models import Attempt, Candidate
from sheets.models import ImportKind, ImportRecord
from sheets.services import import_record_discard_stale_files
from tests.helpers import Person, csv_bytes, new_id

from .conftest import EXEMPTION_HEADER, exemption_row, result_row, results_file

pytestmark = pytest.mark.django_db


def dry_results(exam, data: bytes, *, strict: bool = False, source: str = "web") -> ImportRecord:
    record = exam_import_create(
        exam=exam, kind=ImportKind.EXAM_RESULTS, file=data, file_name="results.csv", strict=strict, dry_run=True,
        source=source,
    )
    exam_import_run(record=record)
    record.refresh_from_db()
    return record


def test_results_dry_run_reports_what_the_import_would_do_and_changes_nothing(exam, staff):
    outsider = Person("9999", "外单位", new_id(), "A")
    rows = [result_row(staff["0001"], 80), result_row(outsider, 70), result_row(staff["0002"], "九十")]
    record = dry_results(exam, results_file(rows))
    assert record.status == JobStatus.SUCCEEDED and not record.applied
    assert record.counts["applied"] == 1 and record.counts["unmatched"] == 1 and record.counts["invalid"] == 1
    assert [(p["row"], p["kind"]) for p in record.problems] == [(3, "unmatched"), (4, "invalid")]
    assert record.message.startswith("试运行")
    assert not Attempt.objects.exists()
    assert not Candidate.objects.filter(exam=exam, best_score__isnull=False).exists()


def test_results_dry_run_sees_conflicts_with_exempt_candidates(exam, staff):
    Candidate.objects.filter(exam=exam, staff__staff_no="0003").update(exempt=True, exempt_reason="病假")
    record = dry_results(exam, results_file([result_row(staff["0003"], 75)]))
    assert record.counts["conflicts"] == 1 and record.problems[0]["kind"] == "conflict"
    assert not Attempt.objects.exists()


def test_strict_dry_run_with_problems_is_refused_and_cannot_be_confirmed(exam, staff):
    record = dry_results(exam, results_file([result_row(staff["0001"], "abc")]), strict=True)
    assert record.status == JobStatus.REFUSED and not record.applied
    assert not record.source_file  # nothing to confirm: the file went
    with pytest.raises(DomainError, match="未通过"):
        exam_import_confirm(dry_run_record=record)


def test_exemptions_dry_run_changes_nothing(exam, staff):
    record = exam_import_create(
        exam=exam, kind=ImportKind.EXAM_EXEMPTIONS, file=csv_bytes([exemption_row(staff["0004"])], header=EXEMPTION_HEADER),
        file_name="exempt.csv", dry_run=True, source="web",
    )
    exam_import_run(record=record)
    record.refresh_from_db()
    assert record.status == JobStatus.SUCCEEDED and record.counts["applied"] == 1 and not record.applied
    assert not Candidate.objects.filter(exam=exam, exempt=True).exists()


def test_confirming_a_web_dry_run_imports_the_same_file_once(exam, staff, django_capture_on_commit_callbacks):
    record = dry_results(exam, results_file([result_row(staff["0001"], 88), result_row(staff["0002"], 61)]))
    assert record.source_file  # kept for the confirm step
    with django_capture_on_commit_callbacks(execute=True):
        real = exam_import_confirm(dry_run_record=record, started_by=None)
    real.refresh_from_db()
    assert real.pk != record.pk and real.status == JobStatus.SUCCEEDED and real.applied
    assert real.counts["applied"] == 2 and not real.options.get("dry_run")
    assert Candidate.objects.get(exam=exam, staff__staff_no="0001").best_score == Decimal("88")
    record.refresh_from_db()
    assert not record.source_file
    with pytest.raises(DomainError, match="已确认过"):
        exam_import_confirm(dry_run_record=record)
    assert Attempt.objects.count() == 2


def test_a_dry_run_from_the_command_line_keeps_no_file_and_cannot_be_confirmed(exam, staff):
    record = dry_results(exam, results_file([result_row(staff["0001"], 88)]), source="")
    assert record.status == JobStatus.SUCCEEDED and not record.source_file
    with pytest.raises(DomainError, match="网页"):
        exam_import_confirm(dry_run_record=record)


def test_an_unconfirmed_dry_run_expires_after_a_day(exam, staff):
    record = dry_results(exam, results_file([result_row(staff["0001"], 88)]))
    later = timezone.now() + dt.timedelta(days=1, minutes=1)
    with pytest.raises(DomainError, match="超过一天"):
        exam_import_confirm(dry_run_record=record, now=later)
    assert import_record_discard_stale_files(now=timezone.now()) == 0
    assert import_record_discard_stale_files(now=later) == 1
    record.refresh_from_db()
    assert not record.source_file
