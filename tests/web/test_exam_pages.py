"""The legal-affairs office's exam pages: create, results and exemptions uploads with the
preview → confirm → progress flow, and each import's problems as a table."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from config.jobs import JobStatus
from exams.models import Attempt, Candidate, Exam
from sheets.models import ImportRecord
from tests.helpers import Person, csv_bytes, new_id

from .conftest import open_exam

pytestmark = pytest.mark.django_db

RESULT_HEADER = ["姓名", "工号", "身份证号", "考试成绩"]


@pytest.fixture
def upload(committed):
    def post(client, exam: Exam, kind: str, data: bytes, *, strict: bool = False, name: str = "成绩.csv"):
        form = {f"{kind}-file": SimpleUploadedFile(name, data)}
        if strict:
            form[f"{kind}-strict"] = "on"
        with committed():
            return client.post(f"/exams/{exam.pk}/imports/{kind}/", form)

    return post


@pytest.fixture
def confirm(committed):
    def post(client, record_id: int, **kwargs):
        with committed():
            return client.post(f"/imports/{record_id}/confirm/", **kwargs)

    return post


def record_id(response) -> int:
    return int(re.search(r"/imports/(\d+)/", response["Location"]).group(1))


def results(district, *, conflict: bool = True) -> bytes:
    a = district.a
    outsider = Person("9999", "外单位", new_id(), "A")
    rows = [
        [a[0].name, a[0].staff_no, "", "88"],
        [a[1].name, a[1].staff_no, "", "59"],
        [outsider.name, "", outsider.id_number, "70"],  # not on the roster: unmatched
        [a[2].name, a[2].staff_no, "", "九十"],  # invalid score
    ]
    if conflict:
        rows.append(["别人", a[3].staff_no, "", "77"])  # the name disagrees: a conflict
    return csv_bytes(rows, header=RESULT_HEADER)


def test_the_office_creates_an_exam_and_its_candidates_are_enrolled(personas, district):
    client = personas["legal_office"].client()
    assert "新建考试" in client.get("/exams/new/").content.decode()
    response = client.post("/exams/new/", {
        "name": "2026 年学法考试", "year": 2026, "kind": "annual_law", "audience": "", "pass_mark": "60",
        "max_score": "100", "opens_on": "2026-03-01", "closes_on": "2026-12-31",
    })
    exam = Exam.objects.get(name="2026 年学法考试")
    assert response.status_code == 302 and response["Location"] == f"/exams/{exam.pk}/"
    assert Candidate.objects.filter(exam=exam).count() == len(district.everybody)


def test_a_bad_exam_is_refused_with_a_chinese_message(personas, district):
    response = personas["legal_office"].client().post("/exams/new/", {
        "name": "坏考试", "year": 2026, "kind": "annual_law", "pass_mark": "120", "max_score": "100",
    })
    assert response.status_code == 200 and "合格分数线应在 0 到满分" in response.content.decode()
    assert not Exam.objects.exists()


def test_results_are_previewed_with_every_problem_then_confirmed(personas, district, exam, upload, confirm):
    client = personas["legal_office"].client()
    response = upload(client, exam, "results", results(district))
    assert response.status_code == 302
    dry = ImportRecord.objects.get(pk=record_id(response))
    assert dry.options["dry_run"] and dry.status == JobStatus.SUCCEEDED and not dry.applied
    assert not Attempt.objects.exists()

    page = client.get(response["Location"])
    body = page.content.decode()
    assert "试运行通过" in body and "confirm-button" in body
    kinds = {(p["row"], p["kind"]) for p in page.context["problems"]}
    assert kinds == {(4, "unmatched"), (5, "invalid"), (6, "conflict")}
    assert "信息冲突（1）" in body and "名册中无此人（1）" in body and "无效（1）" in body
    assert district.a[0].id_number not in body

    conflicts = client.get(response["Location"] + "?kind=conflict")
    assert [p["row"] for p in conflicts.context["problems"]] == [6]

    confirmed = confirm(client, dry.pk)
    real = ImportRecord.objects.get(pk=record_id(confirmed))
    assert real.status == JobStatus.SUCCEEDED and real.applied and real.counts["applied"] == 2
    assert Attempt.objects.count() == 2
    body = client.get(confirmed["Location"]).content.decode()
    assert "成绩导入完成" in body and 'aria-valuenow="100"' in body and "confirm-button" not in body
    again = confirm(client, dry.pk, follow=True)
    assert "已确认过" in again.content.decode() and Attempt.objects.count() == 2


def test_a_dry_run_that_would_import_nothing_offers_no_confirm(personas, district, exam, upload, confirm):
    client = personas["legal_office"].client()
    only_problems = csv_bytes([["查无此人", "8888", "", "70"]], header=RESULT_HEADER)
    response = upload(client, exam, "results", only_problems)
    dry = ImportRecord.objects.get(pk=record_id(response))
    assert dry.status == JobStatus.SUCCEEDED and dry.counts["applied"] == 0
    body = client.get(response["Location"]).content.decode()
    assert "confirm-button" not in body and "无需确认" in body
    refused = confirm(client, dry.pk, follow=True)
    assert "无需确认" in refused.content.decode() and not ImportRecord.objects.filter(pk__gt=dry.pk).exists()


def test_a_strict_dry_run_with_problems_is_refused_and_offers_no_confirm(personas, district, exam, upload):
    client = personas["legal_office"].client()
    response = upload(client, exam, "results", results(district), strict=True)
    record = ImportRecord.objects.get(pk=record_id(response))
    assert record.status == JobStatus.REFUSED
    body = client.get(response["Location"]).content.decode()
    assert "严格模式" in body and "confirm-button" not in body and "未通过" in body


def test_exemptions_go_through_the_same_preview_and_confirm(personas, district, exam, upload, confirm):
    client = personas["legal_office"].client()
    data = csv_bytes([[district.b[0].staff_no, "", district.b[0].name, "长期病假"]], header=["工号", "身份证号", "姓名", "免考原因"])
    response = upload(client, exam, "exemptions", data)
    assert not Candidate.objects.filter(exam=exam, exempt=True).exists()
    confirm(client, record_id(response))
    assert Candidate.objects.get(exam=exam, staff__staff_no=district.b[0].staff_no).exempt


def test_an_upload_without_a_file_shows_the_form_again(personas, exam):
    response = personas["legal_office"].client().post(f"/exams/{exam.pk}/imports/results/", {})
    assert response.status_code == 400 and "该字段是必填项" in response.content.decode()


@pytest.mark.parametrize("persona", ["hr", "liaison_a", "viewer"])
def test_only_the_office_creates_exams_and_imports(personas, district, exam, persona, upload):
    client = personas[persona].client()
    assert client.get("/exams/new/").status_code == 403
    assert upload(client, exam, "results", results(district)).status_code == 403
    assert not ImportRecord.objects.exists()


def test_a_liaison_sees_the_exam_figures_of_their_subtree_only(personas, district, exam):
    page = personas["liaison_a"].client().get(f"/exams/{exam.pk}/")
    assert page.status_code == 200
    assert page.context["figures"]["expected"] == len(district.a)
    assert "导入考试成绩" not in page.content.decode()


def test_import_pages_of_others_are_not_found_for_a_liaison(personas, district, exam, upload):
    response = upload(personas["legal_office"].client(), exam, "results", results(district))
    assert personas["liaison_a"].client().get(response["Location"]).status_code == 404
    assert personas["viewer"].client().get(response["Location"]).status_code == 403


def test_exam_list_runs_a_fixed_number_of_queries(personas, district, django_assert_max_num_queries):
    client = personas["legal_office"].client()
    open_exam("第一场")
    with django_assert_max_num_queries(8):
        client.get("/exams/")
    for i in range(10):
        open_exam(f"第 {i} 场补考")
    with django_assert_max_num_queries(8):
        page = client.get("/exams/")
    assert len(page.context["rows"]) == 11 and page["Cache-Control"] == "no-store"


def test_exam_page_runs_a_fixed_number_of_queries(personas, district, exam, upload, django_assert_max_num_queries):
    client = personas["legal_office"].client()
    upload(client, exam, "results", results(district))
    with django_assert_max_num_queries(10):
        client.get(f"/exams/{exam.pk}/")
    for _ in range(5):
        upload(client, exam, "results", results(district))
    with django_assert_max_num_queries(10):
        page = client.get(f"/exams/{exam.pk}/")
    assert len(page.context["imports"]) == 6
