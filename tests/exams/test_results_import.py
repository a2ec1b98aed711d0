from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from config.events import figures_changed_signal
from exams.models import Attempt, Candidate, EnrolledVia, ExamKind
from exams.selectors import exam_stats
from sheets.models import ImportRecord

from .conftest import import_exemptions, import_results, make_exam, result_row, results_file, today

pytestmark = pytest.mark.django_db


def day(n: int) -> dt.date:
    """The n-th day of a sitting inside the ``exam`` fixture's window (today - 10 .. today + 10):
    a hand-in time outside the window is invalid."""
    return today() - dt.timedelta(days=9) + dt.timedelta(days=n)


def best(exam, staff_no):
    return Candidate.objects.get(exam=exam, staff__staff_no=staff_no)


def test_rows_match_by_staff_no_or_else_by_id_number(exam, staff):
    rows = [result_row(staff["0001"], 80), result_row(staff["0002"], 91.5, by="id_number")]
    result = import_results(exam, results_file(rows))
    assert (result.applied, result.errors) == (2, [])
    assert best(exam, "0001").best_score == Decimal("80")
    assert best(exam, "0002").best_score == Decimal("91.5")


def test_name_that_disagrees_with_the_id_number_is_a_conflict_and_credits_nobody(exam, staff):
    # the ID number is 0001's, the name is somebody else's: maybe a typo in the ID
    rows = [result_row(staff["0001"], 95, by="id_number", name="司法2")]
    result = import_results(exam, results_file(rows))
    assert (result.applied, result.conflicts) == (0, 1)
    error = result.errors[0]
    assert (error["row"], error["column"], error["kind"]) == (2, "姓名", "conflict")
    assert staff["0001"].id_number not in str(result.as_dict())
    assert not Attempt.objects.exists()
    assert Candidate.objects.filter(exam=exam, best_score__isnull=False).count() == 0


def test_name_that_disagrees_with_the_staff_no_is_a_conflict(exam, staff):
    result = import_results(exam, results_file([result_row(staff["0001"], 95, name="司法2")]))
    assert (result.applied, result.conflicts) == (0, 1)
    assert (result.errors[0]["row"], result.errors[0]["column"], result.errors[0]["kind"]) == (2, "姓名", "conflict")
    assert not Attempt.objects.exists()


def test_staff_no_and_id_number_of_two_different_people_credit_neither(exam, staff):
    # 工号 and name are 0001's, the ID number is 0002's
    row = result_row(staff["0001"], 95)
    row[2] = staff["0002"].id_number
    result = import_results(exam, results_file([row]))
    assert (result.applied, result.conflicts) == (0, 1)
    assert result.errors[0]["kind"] == "conflict"
    assert staff["0002"].id_number not in str(result.as_dict())
    assert not Attempt.objects.exists()


def test_people_not_on_the_roster_are_unmatched_and_do_not_abort_the_import(exam, staff):
    from tests.helpers import Person, new_id

    outsider = Person("9999", "外单位", new_id(), "A")
    rows = [result_row(outsider, 88, by="id_number"), result_row(staff["0001"], 70)]
    result = import_results(exam, results_file(rows))
    assert (result.applied, result.unmatched) == (1, 1)
    assert result.errors[0]["kind"] == "unmatched" and result.errors[0]["row"] == 2


@pytest.mark.parametrize("word", ["缺考", "缺席", "absent", "ABSENT", " Absent "])
def test_absent_score_records_no_attempt_and_is_not_an_error(exam, staff, word):
    result = import_results(exam, results_file([result_row(staff["0001"], word)]))
    assert (result.applied, result.absent, result.errors) == (0, 1, [])
    assert result.ran
    assert best(exam, "0001").best_score is None and best(exam, "0001").attempt_count == 0


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("八十", "不是数字"), ("-1", "超出范围"), ("100.5", "超出范围"), ("", "成绩为空"), ("NaN", "不是数字"),
        ("Infinity", "不是数字"), ("1e30", "超出范围"), ("-1e30", "超出范围"), ("100.004", "超出范围"),
    ],
)
def test_score_that_is_not_a_number_or_outside_the_range_is_invalid(exam, staff, score, message):
    result = import_results(exam, results_file([result_row(staff["0001"], "90"), result_row(staff["0002"], score)]))
    assert (result.applied, result.invalid) == (1, 1)
    error = result.errors[0]
    assert (error["row"], error["column"], error["value"], error["kind"]) == (3, "考试成绩", score, "invalid")
    assert message in error["message"]


def test_scores_at_both_ends_of_the_range_are_valid_and_max_score_is_the_exams(staff):
    exam = make_exam(max_score=150, pass_mark=90)
    rows = [result_row(staff["0001"], 0), result_row(staff["0002"], 150), result_row(staff["0003"], 150.01)]
    result = import_results(exam, results_file(rows))
    assert (result.applied, result.invalid) == (2, 1)
    assert best(exam, "0002").passed and not best(exam, "0001").passed


def test_id_number_that_excel_turned_into_a_number_is_invalid(exam, staff):
    row = result_row(staff["0001"], 90, by="id_number")
    row[2] = int(staff["0001"].id_number[:17])  # a number in the cell, as Excel keeps it
    result = import_results(exam, results_file([row], xlsx=True), name="r.xlsx")
    assert result.invalid == 1 and result.applied == 0
    assert result.errors[0]["column"] == "身份证号" and "文本" in result.errors[0]["message"]


def test_broken_id_number_is_invalid(exam, staff):
    row = result_row(staff["0001"], 90, by="id_number")
    row[2] = staff["0001"].id_number[:-1] + ("0" if staff["0001"].id_number[-1] != "0" else "1")
    result = import_results(exam, results_file([row]))
    assert result.invalid == 1 and "校验位" in result.errors[0]["message"]


def test_importing_the_same_file_twice_changes_nothing(exam, staff):
    rows = [
        result_row(staff["0001"], 55, f"{day(1)} 09:00:00"),
        result_row(staff["0001"], 85, f"{day(2)} 09:00:00"),
        result_row(staff["0002"], 85, f"{day(1)} 09:00:00"),
    ]
    data = results_file(rows)
    first = import_results(exam, data)
    before = list(Attempt.objects.order_by("id").values_list("candidate_id", "score", "taken_at"))
    figures = exam_stats(exam=exam)
    second = import_results(exam, data)
    assert (first.applied, first.duplicates) == (3, 0)
    assert (second.applied, second.duplicates) == (0, 3)
    assert list(Attempt.objects.order_by("id").values_list("candidate_id", "score", "taken_at")) == before
    assert exam_stats(exam=exam) == figures


def test_same_file_as_xlsx_with_date_cells_is_the_same_sittings(exam, staff):
    csv_rows = [result_row(staff["0001"], 85, f"{day(2)} 09:30:00")]
    xlsx_rows = [result_row(staff["0001"], 85, dt.datetime.combine(day(2), dt.time(9, 30)))]
    assert import_results(exam, results_file(csv_rows)).applied == 1
    again = import_results(exam, results_file(xlsx_rows, xlsx=True), name="r.xlsx")
    assert (again.applied, again.duplicates) == (0, 1)


def test_without_a_time_column_attempts_are_deduplicated_by_candidate_and_score(exam, staff):
    header = ["姓名", "工号", "成绩"]
    data = results_file([["财政1", "0001", 70], ["财政1", "0001", 90]], header=header)
    assert import_results(exam, data).applied == 2
    again = import_results(exam, data)
    assert (again.applied, again.duplicates) == (0, 2)
    assert Attempt.objects.filter(taken_at__isnull=True).count() == 2


def test_same_sitting_twice_in_one_file_is_counted_once(exam, staff):
    row = result_row(staff["0001"], 70, f"{day(1)} 10:00:00")
    result = import_results(exam, results_file([row, row]))
    assert (result.applied, result.duplicates) == (1, 1)


def test_retake_failed_then_passed_counts_the_best_score(exam, staff):
    rows = [
        result_row(staff["0001"], 45, f"{day(1)} 09:00:00"),
        result_row(staff["0002"], 90, f"{day(1)} 09:00:00"),
    ]
    import_results(exam, results_file(rows))
    first = best(exam, "0001")
    assert (first.best_score, first.passed, first.attempt_count) == (Decimal("45"), False, 1)
    assert exam_stats(exam=exam)["failed"] == 1

    retake = import_results(exam, results_file([result_row(staff["0001"], 78, f"{day(8)} 09:00:00")]))
    assert retake.applied == 1
    again = best(exam, "0001")
    assert (again.best_score, again.passed, again.attempt_count) == (Decimal("78"), True, 2)
    figures = exam_stats(exam=exam)
    assert (figures["sat"], figures["passed"], figures["failed"]) == (2, 2, 0)
    assert figures["average_score"] == pytest.approx((78 + 90) / 2)


def test_a_worse_retake_does_not_lower_the_best_score(exam, staff):
    rows = [result_row(staff["0001"], 88, f"{day(1)} 09:00:00"), result_row(staff["0001"], 52, f"{day(3)} 09:00:00")]
    import_results(exam, results_file(rows))
    candidate = best(exam, "0001")
    assert (candidate.best_score, candidate.passed, candidate.attempt_count) == (Decimal("88"), True, 2)


def test_strict_applies_nothing_when_any_row_has_a_problem(exam, staff):
    rows = [result_row(staff["0001"], 80), result_row(staff["0002"], "九十")]
    result = import_results(exam, results_file(rows), strict=True)
    assert result.status == "refused" and not result.ran and not result.unreadable
    assert (result.applied, result.invalid) == (0, 1)
    assert not Attempt.objects.exists()
    assert ImportRecord.objects.get(pk=result.import_id).applied is False


def test_strict_applies_a_clean_file_and_absent_rows_are_not_problems(exam, staff):
    rows = [result_row(staff["0001"], 80), result_row(staff["0002"], "缺考")]
    result = import_results(exam, results_file(rows), strict=True)
    assert result.ran and (result.applied, result.absent) == (1, 1)


def test_result_for_an_exempt_candidate_is_a_conflict_and_not_applied(exam, staff):
    from .conftest import exemption_row

    import_exemptions(exam, [exemption_row(staff["0003"], "产假")])
    result = import_results(exam, results_file([result_row(staff["0003"], 90), result_row(staff["0001"], 90)]))
    assert (result.applied, result.conflicts) == (1, 1)
    error = result.errors[0]
    assert error["kind"] == "conflict" and error["row"] == 2 and "免考" in error["message"]
    candidate = best(exam, "0003")
    assert candidate.exempt and candidate.best_score is None


def test_an_import_leaves_a_record_with_file_hash_counts_and_every_problem(exam, staff):
    import hashlib

    rows = [result_row(staff["0001"], 80), result_row(staff["0002"], "abc"), result_row(staff["0003"], "缺席")]
    data = results_file(rows)
    result = import_results(exam, data, name="平台导出.csv")
    record = ImportRecord.objects.get(pk=result.import_id)
    assert record.kind == "exam_results" and record.target_id == exam.pk
    assert record.file_name == "平台导出.csv" and record.sha256 == hashlib.sha256(data).hexdigest()
    assert record.status == "succeeded" and record.applied and record.rows == 3
    assert record.counts["applied"] == 1 and record.counts["invalid"] == 1 and record.counts["absent"] == 1
    assert record.problems == [
        {"row": 3, "column": "考试成绩", "value": "abc", "message": "成绩不是数字。", "kind": "invalid"}
    ]
    assert (record.progress_done, record.progress_total) == (3, 3)
    # the uploaded file holds personal data and is dropped once the import has run
    assert not record.source_file
    assert Attempt.objects.get().import_record_id == record.pk


def test_title_rows_and_header_aliases_are_understood(exam, staff):
    header = ["序号", "姓名", "身份证号", "所在单位", "分数", "考试时间"]
    rows = [[1, "财政1", staff["0001"].id_number, "财政局", "77.5", f"{day(1):%Y/%m/%d} 10:20"]]
    data = results_file(rows, header=header, title_rows=["2026 年度学法用法考试成绩", "导出时间：2026-06-01"], xlsx=True)
    result = import_results(exam, data, name="export.xlsx")
    assert (result.applied, result.errors) == (1, [])
    attempt = Attempt.objects.get()
    assert attempt.row_number == 4
    assert attempt.taken_at.astimezone(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None) == dt.datetime.combine(day(1), dt.time(10, 20))


@pytest.mark.parametrize("header", ["成绩", "得分", "考试成绩"])
def test_score_column_aliases(exam, staff, header):
    result = import_results(exam, results_file([["财政1", "0001", 66]], header=["姓名", "工号", header]))
    assert result.applied == 1


def test_unreadable_time_is_invalid(exam, staff):
    result = import_results(exam, results_file([result_row(staff["0001"], 80, "昨天上午")]))
    assert result.invalid == 1 and result.errors[0]["column"] == "交卷时间"


def test_unit_column_is_only_informative(exam, staff):
    rows = [["财政1", "0001", "", "完全不对的单位", 80, ""]]
    assert import_results(exam, results_file(rows)).applied == 1


def test_file_without_a_score_column_is_refused_as_unreadable(exam, staff):
    result = import_results(exam, results_file([["财政1", "0001"]], header=["姓名", "工号"]))
    assert result.unreadable and result.status == "refused"
    assert "考试成绩" in result.message


def test_file_without_staff_no_or_id_number_is_refused(exam, staff):
    result = import_results(exam, results_file([["财政1", "财政局", 80]], header=["姓名", "所在单位", "成绩"]))
    assert result.unreadable and "工号" in result.message


def test_result_for_staff_outside_the_audience_enrols_them(staff):
    exam = make_exam(kind=ExamKind.ENFORCEMENT_RENEWAL)
    assert not Candidate.objects.filter(exam=exam, staff__staff_no="0002").exists()
    result = import_results(exam, results_file([result_row(staff["0002"], 80)]))
    assert (result.applied, result.enrolled) == (1, 1)
    candidate = best(exam, "0002")
    assert candidate.enrolled_via == EnrolledVia.RESULT and candidate.unit.code == "A"


def test_results_may_be_imported_into_a_closed_exam(closed_exam, staff):
    result = import_results(closed_exam, results_file([result_row(staff["0001"], 80)]))
    assert result.applied == 1 and exam_stats(exam=closed_exam)["sat"] == 1


def test_a_failure_while_applying_leaves_nothing_behind(exam, staff, monkeypatch):
    from exams import results

    def explode(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(results, "candidates_refresh_scores", explode)
    result = import_results(exam, results_file([result_row(staff["0001"], 80)]))
    assert result.status == "failed" and "未作任何改动" in result.message
    assert not Attempt.objects.exists()


def test_importing_results_announces_the_exams_figures_changed(exam, staff, django_capture_on_commit_callbacks):
    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    figures_changed_signal.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            import_results(exam, results_file([result_row(staff["0001"], 80)]))
    finally:
        figures_changed_signal.disconnect(receiver)
    assert {"kind": "exam", "exam_id": exam.pk, "year": exam.year} in [
        {k: v for k, v in s.items() if k != "signal"} for s in seen
    ]



def test_every_row_is_counted_once_under_one_kind(exam, staff):
    from tests.helpers import Person, new_id

    from .conftest import exemption_row

    import_exemptions(exam, [exemption_row(staff["0006"])])
    rows = [
        result_row(staff["0001"], 80, f"{day(1)} 09:00:00"),
        result_row(staff["0001"], 80, f"{day(1)} 09:00:00"),  # duplicate
        result_row(staff["0002"], "缺考"),
        result_row(staff["0003"], "abc"),
        result_row(Person("9999", "外人", new_id(), "A"), 70, by="id_number"),
        result_row(staff["0004"], 70, by="id_number", name="别人"),
        result_row(staff["0006"], 70),  # exempt
    ]
    result = import_results(exam, results_file(rows))
    counted = (result.applied, result.duplicates, result.absent, result.invalid, result.unmatched, result.conflicts)
    assert counted == (1, 1, 1, 1, 1, 2)
    assert sum(counted) == result.rows == len(rows)


def test_a_staff_no_that_excel_stored_as_a_number_is_unmatched_with_a_hint_about_leading_zeros(exam, staff):
    # 0001 typed into a number cell arrives as 1
    row = result_row(staff["0001"], 80)
    row[1] = 1
    result = import_results(exam, results_file([row], xlsx=True), name="results.xlsx")
    assert (result.applied, result.unmatched) == (0, 1)
    error = result.errors[0]
    assert (error["row"], error["column"], error["value"]) == (2, "工号", "1")
    assert "开头的 0 可能已经丢失" in error["message"]
    # a 工号 typed as text that is simply unknown gets no such hint
    text_row = result_row(staff["0001"], 80)
    text_row[1] = "7777"
    unknown = import_results(exam, results_file([text_row], xlsx=True), name="results2.xlsx")
    assert unknown.errors[0]["message"] == "名册中找不到此人。"
