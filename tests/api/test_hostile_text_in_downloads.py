"""Hostile text already stored (a formula for a 职务, a name starting with @, a name holding a
control character) comes out of every download inert and readable: the not-sat list from the
API (csv, xlsx), the web download and the command (csv, xlsx), ``hours_below`` (csv, xlsx),
the annual report (xlsx, docx) and the learning records. All go through ``sheets.writers``."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.test import Client
from docx import Document
from openpyxl import load_workbook

from roster.models import Staff, Unit
from sheets import writers
from tests.helpers import run_command

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://x","点击")'
AT_NAME = "@SUM(A1)"
BELL_NAME = "财政\u00076"


@pytest.fixture
def hostile(activity):
    """Stored before the input rules refused such text (a legacy row, a direct database edit)."""
    Staff.objects.filter(staff_no="0004").update(position=FORMULA)
    Staff.objects.filter(staff_no="0005").update(name=AT_NAME)
    Staff.objects.filter(staff_no="0006").update(name=BELL_NAME)
    Unit.objects.filter(code="A").update(name="=1+1财政局\u0007")
    return activity


def assert_inert_workbook(data: bytes) -> list[list[object]]:
    workbook = load_workbook(io.BytesIO(data))
    values = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert "\u0007" not in cell.value
                    if cell.value.startswith(writers.FORMULA_STARTS):
                        assert cell.data_type == "s" and cell.quotePrefix, (sheet.title, cell.coordinate)
            values.append([c.value for c in row])
    # the raw XML holds no formula element at all
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert not any(b"<f>" in archive.read(n) or b"<f " in archive.read(n) for n in archive.namelist()
                       if n.startswith("xl/worksheets/"))
    return values


def assert_inert_csv(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for field in row:
            assert not field.startswith(writers.FORMULA_STARTS), field
            assert "\u0007" not in field
    flat = [f for row in rows for f in row]
    assert "'" + FORMULA in flat and "'" + AT_NAME in flat and "财政6" in flat
    return rows


def test_api_not_sat_csv_puts_an_apostrophe_before_formula_text(personas, hostile):
    response = personas["legal_office"].client().get(f"/api/v1/exams/{hostile.exam.pk}/not-sat/?format=csv")
    assert response.status_code == 200
    assert response.streaming
    rows = assert_inert_csv(b"".join(response.streaming_content).decode("utf-8-sig"))
    # numbers-as-text stay as they were: the staff number keeps its zeros
    assert rows[1][0] == "0004"


def test_api_not_sat_xlsx_has_text_cells_and_no_formula(personas, hostile):
    response = personas["legal_office"].client().get(f"/api/v1/exams/{hostile.exam.pk}/not-sat/?format=xlsx")
    assert response.status_code == 200
    values = assert_inert_workbook(response.content)
    flat = [v for row in values for v in row]
    assert FORMULA in flat and AT_NAME in flat and "财政6" in flat
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A2"].value == "0004" and sheet["A2"].data_type == "s" and sheet["A2"].number_format == "@"


def test_web_not_sat_download_is_inert_even_with_a_hostile_unit_name(personas, hostile):
    client = Client()
    client.force_login(personas["legal_office"].user)
    response = client.get(f"/exams/{hostile.exam.pk}/not-sat/A/xlsx/")
    assert response.status_code == 200, response.content[:300]
    values = assert_inert_workbook(response.content)
    assert FORMULA in [v for row in values for v in row]


def test_not_sat_command_csv_and_xlsx_are_inert(hostile, tmp_path):
    out = tmp_path / "not-sat.csv"
    assert run_command("not_sat", hostile.exam.pk, "--format", "csv", "-o", str(out)).code == 0
    assert_inert_csv(out.read_bytes().decode("utf-8-sig"))
    out = tmp_path / "not-sat.xlsx"
    assert run_command("not_sat", hostile.exam.pk, "--format", "xlsx", "-o", str(out)).code == 0
    assert FORMULA in [v for row in assert_inert_workbook(out.read_bytes()) for v in row]


def test_hours_below_csv_and_xlsx_are_inert_and_keep_numbers_numbers(hostile, tmp_path):
    out = tmp_path / "hours.xlsx"
    assert run_command("hours_below", str(hostile.year), "--format", "xlsx", "-o", str(out)).code == 0
    values = assert_inert_workbook(out.read_bytes())
    names = [row[1] for row in values[2:]]
    assert AT_NAME in names and "财政6" in names
    assert all(isinstance(row[4], int | float) for row in values[2:])
    out = tmp_path / "hours.csv"
    assert run_command("hours_below", str(hostile.year), "--format", "csv", "-o", str(out)).code == 0
    text = out.read_bytes().decode("utf-8-sig")
    assert "'" + AT_NAME in text and "\u0007" not in text


def test_annual_report_xlsx_and_docx_render_hostile_names(personas, hostile):
    from exams.models import Exam

    Exam.objects.filter(pk=hostile.exam.pk).update(name="学法\u0007考试")
    client = personas["legal_office"].client()
    for fmt in ("xlsx", "docx"):
        response = client.get(f"/api/v1/reports/annual/{hostile.year}/?format={fmt}")
        assert response.status_code == 200, (fmt, response.content[:300])
        if fmt == "xlsx":
            flat = [v for row in assert_inert_workbook(response.content) for v in row]
            assert "学法考试" in flat
        else:
            text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
            assert "学法考试" in text and "\u0007" not in text


def test_the_writer_keeps_numbers_and_neutralises_every_formula_start():
    rows = [["=1", "+1", "-1", "@x", "\tx", "\rx", "ok", 5, -3, 1.5, "a\u0007b\u009fc"]]
    fields = next(csv.reader(io.StringIO(writers.csv_text(["h"] * 11, rows).split("\r\n", 1)[1])))
    assert fields == ["'=1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "ok", "5", "-3", "1.5", "abc"]
    data = writers.xlsx_bytes(title="t", headers=["h"] * 11, rows=rows, text_columns=(6,))
    sheet = load_workbook(io.BytesIO(data)).active
    cells = list(sheet.iter_rows(min_row=2))[0]
    assert [c.data_type for c in cells[:6]] == ["s"] * 6 and all(c.quotePrefix for c in cells[:6])
    assert [c.value for c in cells[7:10]] == [5, -3, 1.5] and cells[7].data_type == "n"
    assert cells[6].number_format == "@" and cells[10].value == "abc"
