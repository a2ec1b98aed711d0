"""Participation statistics (from the snapshots) and the annual report (JSON and files)
through the API, for the district and for a liaison's subtree."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook

from audit.models import AuditEvent
from exams.selectors import exam_stats
from reports.annual import annual_report_build
from reports.selectors import participation_latest
from tests.api.conftest import make_persona
from training.selectors import training_stats

pytestmark = pytest.mark.django_db


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- stats/participation ------------------------------------------------------------------


def test_participation_is_read_from_the_latest_snapshots(personas, activity, units):
    body = rows(personas["viewer"].client().get(f"/api/v1/stats/participation/?exam={activity.exam.pk}&page_size=100"))
    assert {r["unit_code"] for r in body} == set(units)
    district = next(r for r in body if r["unit_code"] == "D")
    live = exam_stats(exam=activity.exam)
    assert {k: district[k] for k in live} == live
    assert district["scope"] == "exam" and district["rollup"] is True and district["exam_id"] == activity.exam.pk
    assert district["attendances"] is None


def test_participation_of_a_unit_alone_and_rolled_up(personas, activity, units):
    client = personas["legal_office"].client()
    rolled = rows(client.get(f"/api/v1/stats/participation/?exam={activity.exam.pk}&unit=T"))
    alone = rows(client.get(f"/api/v1/stats/participation/?exam={activity.exam.pk}&unit=T&rollup=false"))
    assert [r["unit_code"] for r in rolled] == ["T", "T1"]
    assert rolled[0]["expected"] == exam_stats(exam=activity.exam, unit=units["T"])["expected"] == 3
    assert alone[0]["expected"] == 0 and alone[0]["rollup"] is False


def test_participation_of_a_year_holds_exam_and_training_rows(personas, activity, units):
    body = rows(personas["legal_office"].client().get(f"/api/v1/stats/participation/?year={activity.year}&unit=A"))
    assert [(r["scope"], r["unit_code"]) for r in body] == [("exam", "A"), ("training", "A")]
    training = body[1]
    live = training_stats(year=activity.year, unit=units["A"])
    assert (training["attendances"], training["staff_trained"]) == (live["attendances"], live["staff_trained"]) == (2, 2)
    assert training["person_hours"] == "4.00" and training["exam_id"] is None and training["sat"] is None
    # without exam and year: this year's
    assert rows(personas["legal_office"].client().get("/api/v1/stats/participation/?unit=A")) == body


def test_a_liaison_gets_participation_of_their_subtree_only(personas, activity, units):
    client = personas["liaison_b"].client()
    body = rows(client.get("/api/v1/stats/participation/"))
    assert {r["unit_code"] for r in body} == {"B"}
    assert rows(client.get(f"/api/v1/stats/participation/?unit=B&exam={activity.exam.pk}"))[0]["sat"] == 1
    for query in ("?unit=A", "?unit=D", "?unit=T1", "?unit=NOPE"):
        response = client.get(f"/api/v1/stats/participation/{query}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    town = make_persona("town", "liaison", "T")
    assert {r["unit_code"] for r in rows(town.client().get("/api/v1/stats/participation/"))} == {"T", "T1"}


def test_participation_equals_the_reports_selector(personas, activity, units):
    api = rows(personas["legal_office"].client().get(f"/api/v1/stats/participation/?exam={activity.exam.pk}&unit=E"))
    stored = participation_latest(exam=activity.exam, unit=units["E"])
    assert [r["unit_code"] for r in api] == [r["unit_code"] for r in stored] == ["E", "S1"]
    assert [r["expected"] for r in api] == [r["expected"] for r in stored]


def test_participation_refuses_bad_parameters_and_unknown_exams(personas, activity):
    client = personas["legal_office"].client()
    assert client.get("/api/v1/stats/participation/?rollup=yes").status_code == 400
    assert client.get("/api/v1/stats/participation/?year=1999").status_code == 400
    assert client.get("/api/v1/stats/participation/?exam=abc").status_code == 400
    assert client.get("/api/v1/stats/participation/?year=&exam=1").status_code == 400
    assert client.get("/api/v1/stats/participation/?exam=987654").status_code == 404
    assert personas["hr"].client().get("/api/v1/stats/participation/").status_code == 403


def test_participation_runs_a_fixed_number_of_queries(personas, activity, django_assert_max_num_queries):
    # the latest run of the year's exams, the latest training run, two COUNTs, two pages, and
    # the sign-in's own: none of them per unit or per row
    with django_assert_max_num_queries(8):
        rows(personas["viewer"].client().get(f"/api/v1/stats/participation/?year={activity.year}&page_size=500"))


def test_participation_pages_in_sql_are_the_full_read_cut_in_pages(personas, activity, django_assert_max_num_queries):
    everything = participation_latest(year=activity.year)
    assert {r["scope"] for r in everything} == {"exam", "training"}
    client = personas["viewer"].client()
    pages, page = [], 1
    while True:
        body = client.get(f"/api/v1/stats/participation/?year={activity.year}&page_size=3&page={page}").json()
        assert body["count"] == len(everything)
        pages += body["results"]
        if not body["next"]:
            break
        page += 1
    assert page == -(-len(everything) // 3)
    key = ("scope", "exam_id", "unit_code", "sat", "attendances")
    assert [tuple(r[k] for k in key) for r in pages] == [tuple(r.get(k) for k in key) for r in everything]


def test_participation_reads_only_the_latest_snapshot_run(personas, activity):
    from reports.models import ExamSnapshot
    from reports.snapshots import snapshots_refresh

    first = participation_latest(exam=activity.exam)
    snapshots_refresh(everything=True)
    assert ExamSnapshot.objects.filter(exam=activity.exam).values("computed_at").distinct().count() >= 2
    body = rows(personas["viewer"].client().get(f"/api/v1/stats/participation/?exam={activity.exam.pk}&page_size=500"))
    assert len(body) == len(first)
    assert len({r["computed_at"] for r in body}) == 1


# --- the annual report --------------------------------------------------------------------


def report_url(year: int, fmt: str = "") -> str:
    return f"/api/v1/reports/annual/{year}/" + (f"?format={fmt}" if fmt else "")


def test_annual_report_json_is_the_reports_builder(personas, activity):
    body = personas["viewer"].client().get(report_url(activity.year)).json()
    built = annual_report_build(year=activity.year)
    assert set(body) == {"year", "staff", "exams", "training", "certificates", "narrative"}
    assert body["narrative"] == built["narrative"]
    # E has nobody in the exam: it is listed with its zeros
    assert body["exams"][0]["sat"] == 4
    assert [(u["unit_code"], u["candidates"]) for u in body["exams"][0]["by_unit"]] == [
        ("A", 6), ("B", 4), ("T", 3), ("E", 0)]
    assert body["training"]["events"] == 3


def test_a_liaisons_annual_report_is_the_report_of_their_subtree(personas, activity, units):
    body = personas["liaison_a"].client().get(report_url(activity.year)).json()
    assert body["unit"] == {"code": "A", "name": "测试区财政局"}
    assert body["staff"]["active"] == 6
    exam = body["exams"][0]
    assert {k: exam[k] for k in ("expected", "sat", "passed")} == {"expected": 5, "sat": 2, "passed": 1}
    assert [u["unit_code"] for u in exam["by_unit"]] == ["A"]
    assert body["training"]["events"] == 1 and body["training"]["attendances"] == 2
    assert "测试区司法局" not in str(body)


@pytest.mark.parametrize(("fmt", "content_type", "magic"), [
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK"),
    ("png", "image/png", b"\x89PNG"),
])
def test_annual_report_files(fmt, content_type, magic, personas, activity):
    response = personas["legal_office"].client().get(report_url(activity.year, fmt))
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == content_type and response.content.startswith(magic)
    assert response["Cache-Control"] == "no-store"
    assert f'filename="annual-report-{activity.year}.{fmt}"' in response["Content-Disposition"]
    assert not AuditEvent.objects.exists()  # no personal data in a report


def test_a_liaisons_report_files_name_their_unit(personas, activity):
    client = personas["liaison_b"].client()
    docx = client.get(report_url(activity.year, "docx"))
    assert f"annual-report-{activity.year}-B.docx" in docx["Content-Disposition"]
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert text.startswith(f"测试区司法局{activity.year}年度")
    workbook = load_workbook(io.BytesIO(client.get(report_url(activity.year, "xlsx")).content))
    cells = {c.value for sheet in workbook for row in sheet.iter_rows() for c in row}
    assert "测试区司法局及其下属单位" in cells and "测试区财政局" not in cells


def test_annual_report_refusals(personas, activity):
    assert personas["hr"].client().get(report_url(activity.year)).status_code == 403
    assert personas["legal_office"].client().get(report_url(activity.year, "pdf")).status_code == 400
    assert personas["legal_office"].client().get(report_url(1999)).status_code == 400
    assert personas["legal_office"].client().get("/api/v1/reports/annual/20x4/").status_code == 404


def test_a_chart_without_the_cjk_font_is_503_with_the_reason(personas, activity, monkeypatch):
    from reports import render

    monkeypatch.setattr(render, "CJK_FONT_FAMILIES", ("No Such Font",))
    monkeypatch.setattr(render, "CJK_FONT_FILES", ("/nonexistent/font.ttc",))
    response = personas["viewer"].client().get(report_url(activity.year, "png"))
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable" and "fonts-wqy-microhei" in response.json()["detail"]
