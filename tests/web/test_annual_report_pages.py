"""The annual report page (legal_office, viewer): the paragraph and tables of a year, and the
Excel, Word and chart downloads, all from the reports app's services."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from docx import Document
from openpyxl import load_workbook

from reports.annual import annual_report_build

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["legal_office", "viewer"])
def test_the_page_shows_the_years_narrative_and_tables(personas, district, exam, persona):
    year = timezone.localdate().year
    page = personas[persona].client().get(f"/reports/annual/?year={year}")
    body = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    report = annual_report_build(year=year)
    assert report["narrative"] in body
    assert f'id="exam-{exam.pk}"' in body and "测试区财政局" in body and "参训人次" in body
    for name in ("xlsx", "docx", "png"):
        assert f"/reports/annual/{year}.{name}" in body


def test_a_past_year_can_be_picked(personas, district, exam):
    year = timezone.localdate().year - 1
    page = personas["viewer"].client().get(f"/reports/annual/?year={year}")
    assert page.status_code == 200 and page.context["year"] == year and page.context["exams"] == []


def test_the_year_picker_offers_only_years_with_data(personas, district, exam):
    import datetime as dt

    from training.events import training_event_create

    this_year = timezone.localdate().year
    training_event_create(title="旧讲座", kind="lecture", date=dt.date(2021, 5, 1), hours="2")
    offered = [y for y, _ in personas["viewer"].client().get("/reports/annual/").context["years"]]
    assert offered == sorted({this_year, exam.year, 2021}, reverse=True)
    # a year asked for by address is offered too, so the picker shows what the page shows
    asked = personas["viewer"].client().get("/reports/annual/?year=2015").context["years"]
    assert 2015 in [y for y, _ in asked] and 2016 not in [y for y, _ in asked]


@pytest.mark.parametrize("persona", ["hr", "liaison_a"])
def test_other_roles_do_not_get_the_district_report(personas, district, persona):
    client = personas[persona].client()
    assert client.get("/reports/annual/").status_code == 403
    assert client.get(f"/reports/annual/{timezone.localdate().year}.docx").status_code == 403


def test_downloads_are_the_reports_files(personas, district, exam):
    year = timezone.localdate().year
    client = personas["legal_office"].client()
    xlsx = client.get(f"/reports/annual/{year}.xlsx")
    assert xlsx["Content-Disposition"] == f'attachment; filename="annual-report-{year}.xlsx"'
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames
    docx = client.get(f"/reports/annual/{year}.docx")
    assert docx["Content-Type"].endswith("wordprocessingml.document")
    assert any("学法用法" in p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    png = client.get(f"/reports/annual/{year}.png")
    assert png["Content-Type"] == "image/png" and png.content[:4] == b"\x89PNG"
    assert client.get(f"/reports/annual/{year}.pdf").status_code == 404
    assert client.get("/reports/annual/?year=1999").status_code == 404


def test_the_report_page_runs_a_fixed_number_of_queries(personas, district, exam, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .conftest import open_exam

    client = personas["legal_office"].client()
    # PostgreSQL runs two more (the reports app's SET LOCAL for its large reads)
    with django_assert_max_num_queries(24), CaptureQueriesContext(connection) as one:
        client.get("/reports/annual/")
    for i in range(4):
        open_exam(f"第 {i} 场")
    with CaptureQueriesContext(connection) as five:
        page = client.get("/reports/annual/")
    assert len(page.context["exams"]) == 5
    # every exam's total comes from the one per-unit count over the tree: nothing grows with
    # the number of exams, units or people
    assert len(five) == len(one)


def test_a_chart_download_without_the_cjk_font_returns_to_the_page_with_the_reason(personas, district, monkeypatch):
    from reports import render

    monkeypatch.setattr(render, "CJK_FONT_FAMILIES", ("No Such Font",))
    monkeypatch.setattr(render, "CJK_FONT_FILES", ("/nonexistent/font.ttc",))
    year = timezone.localdate().year
    client = personas["legal_office"].client()
    response = client.get(f"/reports/annual/{year}.png")
    assert response.status_code == 302 and response["Location"] == f"/reports/annual/?year={year}"
    page = client.get(response["Location"])
    assert "fonts-wqy-microhei" in page.content.decode()
