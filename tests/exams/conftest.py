from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from django.utils import timezone

from exams.creation import exam_create
from exams.imports import ExamImportResult, exam_import_create, exam_import_run
from exams.models import Exam, ExamKind
from roster.sync import roster_sync, roster_sync_create
from sheets.models import ImportKind
from tests.helpers import Person, csv_bytes, new_id, xlsx_bytes

RESULT_HEADER = ["姓名", "工号", "身份证号", "所在单位", "考试成绩", "交卷时间"]
EXEMPTION_HEADER = ["工号", "身份证号", "姓名", "免考原因"]


def today() -> dt.date:
    return timezone.localdate()


def district() -> list[Person]:
    """15 people: A (6, 0001 its head), B (3, head 0101 holds an enforcement certificate),
    T1 (4 enforcement officers), S1 (2)."""
    people = [Person(f"000{i}", f"财政{i}", new_id(), "A", phone=f"1390000000{i}") for i in range(1, 7)]
    people[0].is_head = "是"
    people += [Person(f"010{i}", f"司法{i}", new_id(), "B", phone=f"1390000010{i}") for i in range(1, 4)]
    people[6].is_head, people[6].cert = "是", "桂执0101"
    people += [Person(f"020{i}", f"执法{i}", new_id(), "T1", cert=f"桂执020{i}", phone=f"1390000020{i}") for i in range(1, 5)]
    people += [Person(f"030{i}", f"教师{i}", new_id(), "S1", phone=f"1390000030{i}") for i in range(1, 3)]
    return people


def sync(people: Iterable[Person], **options: Any):
    result = roster_sync(sync=roster_sync_create(file=csv_bytes(list(people)), file_name="roster.csv", **options))
    assert result.applied, result.message
    return result


@pytest.fixture
def staff(units) -> dict[str, Person]:
    people = district()
    sync(people)
    return {p.staff_no: p for p in people}


def make_exam(*, kind: str = ExamKind.ANNUAL_LAW, opens: int = -10, closes: int = 10, year: int | None = None,
              name: str = "学法用法考试", **options: Any) -> Exam:
    """An exam whose window runs from ``opens`` to ``closes`` days from today."""
    start, end = today() + dt.timedelta(days=opens), today() + dt.timedelta(days=closes)
    return exam_create(name=name, year=year or start.year, kind=kind, opens_on=start, closes_on=end, **options)


@pytest.fixture
def exam(staff) -> Exam:
    return make_exam()


@pytest.fixture
def closed_exam(staff) -> Exam:
    return make_exam(opens=-60, closes=-30, name="去年的考试")


def result_row(person: Person, score: Any, when: str = "", *, by: str = "staff_no", name: str | None = None) -> list[Any]:
    return [
        person.name if name is None else name,
        person.staff_no if by == "staff_no" else "",
        person.id_number if by == "id_number" else "",
        "某单位",
        score,
        when,
    ]


def results_file(rows: Sequence[Sequence[Any]], *, header: Sequence[str] = RESULT_HEADER, xlsx: bool = False,
                 title_rows: Sequence[str] = ()) -> bytes:
    if xlsx:
        return xlsx_bytes(rows, header=header, title_rows=title_rows)
    return csv_bytes(rows, header=header, title_rows=title_rows)


def import_results(exam: Exam, data: bytes, *, name: str = "results.csv", strict: bool = False) -> ExamImportResult:
    record = exam_import_create(exam=exam, kind=ImportKind.EXAM_RESULTS, file=data, file_name=name, strict=strict)
    return exam_import_run(record=record)


def import_exemptions(exam: Exam, rows: Sequence[Sequence[Any]], *, header: Sequence[str] = EXEMPTION_HEADER) -> ExamImportResult:
    record = exam_import_create(
        exam=exam, kind=ImportKind.EXAM_EXEMPTIONS, file=csv_bytes(rows, header=header), file_name="exempt.csv"
    )
    return exam_import_run(record=record)


def exemption_row(person: Person, reason: str = "长期病假", *, by: str = "staff_no", name: str | None = None) -> list[str]:
    return [
        person.staff_no if by == "staff_no" else "",
        person.id_number if by == "id_number" else "",
        person.name if name is None else name,
        reason,
    ]
