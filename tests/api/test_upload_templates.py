"""Upload templates: GET /api/v1/templates/{kind}.xlsx and /templates/<kind>.xlsx. Each is a
blank sheet with the headings its import reads, one sample row and the 工号 / ID-number
columns formatted as text; each goes through its real importer's dry run with no heading
error, and filled in with a real person it imports that person."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from certificates.columns import CERTIFICATE_SCHEMA
from certificates.imports import certificate_import_create, certificate_import_run
from exams.columns import EXEMPTION_SCHEMA, RESULT_SCHEMA
from exams.imports import exam_import_create, exam_import_run
from roster.columns import ROSTER_SCHEMA
from roster.sync import roster_sync, roster_sync_create
from sheets.models import ImportKind
from sheets.reader import read_table
from sheets.templates import TEMPLATE_KINDS, template_xlsx
from tests.api.conftest import PASSWORD
from training.attendance import attendance_import
from training.columns import SIGNIN_SCHEMA

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SCHEMAS = {"roster": ROSTER_SCHEMA, "results": RESULT_SCHEMA, "exemptions": EXEMPTION_SCHEMA,
           "attendance": SIGNIN_SCHEMA, "certificates": CERTIFICATE_SCHEMA}
# kind -> the personas that may download it (everyone else signed in: 403)
ALLOWED = {
    "roster": {"hr", "legal_office"},
    "results": {"legal_office"},
    "exemptions": {"legal_office"},
    "certificates": {"legal_office"},
    "attendance": {"legal_office", "liaison_a", "liaison_b"},
}
HEADING_ROW = 2  # row 1 is the caption


def _sheet(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def _headings(sheet) -> list[str]:
    return [c.value for c in next(sheet.iter_rows(min_row=HEADING_ROW, max_row=HEADING_ROW))]


@pytest.mark.parametrize("kind", TEMPLATE_KINDS)
def test_a_template_has_every_heading_its_import_reads_a_sample_row_and_text_columns(kind):
    data = template_xlsx(kind)
    sheet = _sheet(data)
    headings = _headings(sheet)
    schema = SCHEMAS[kind]
    # the import's own reader maps every heading to one of its columns
    table = read_table(data, filename=f"{kind}.xlsx", schema=schema)
    assert set(table.headers) == {c.field for c in schema.columns}
    assert len(table.rows) == 1  # the sample row
    for column in schema.required():
        assert f"{column.label}（必填）" in headings
    letters = {c.field: chr(ord("A") + i) for i, c in enumerate(schema.columns)}
    for field in ("staff_no", "id_number"):
        if field in letters:
            # the whole column is text, and so is the sample's cell
            assert sheet.column_dimensions[letters[field]].number_format == "@"
            cell = sheet[f"{letters[field]}{HEADING_ROW + 1}"]
            assert cell.number_format == "@" and cell.data_type == "s" and cell.value
    assert sheet[f"{letters['staff_no']}{HEADING_ROW + 1}"].value == "000123"  # the leading zeros kept
    # no plain ID number in a file handed out, not even a made-up one
    assert "*" in sheet[f"{letters['id_number']}{HEADING_ROW + 1}"].value


def _filled(kind: str, person, **values) -> bytes:
    """The template with its sample row replaced by ``person`` (and ``values``)."""
    book = load_workbook(io.BytesIO(template_xlsx(kind)))
    sheet = book.active
    schema = SCHEMAS[kind]
    sample = {"staff_no": person.staff_no, "name": person.name, "id_number": person.id_number, "unit": person.unit,
              "phone": person.phone, **values}
    for index, column in enumerate(schema.columns, start=1):
        cell = sheet.cell(row=HEADING_ROW + 1, column=index)
        if column.field in sample:
            cell.value = sample[column.field]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _file_level(errors) -> list:
    return [e for e in errors if (e.get("row") if isinstance(e, dict) else e.row) is None]


def test_the_roster_template_runs_through_the_sync_dry_run(district):
    sample = roster_sync(sync=roster_sync_create(file=template_xlsx("roster"), file_name="名册导入模板.xlsx",
                                                 mode="partial", dry_run=True))
    assert not _file_level(sample.errors), sample.errors
    assert sample.rejected == 1 and not sample.applied  # the sample row (masked ID, unknown unit)
    person = district.a[0]
    filled = roster_sync(sync=roster_sync_create(
        file=_filled("roster", person, name="新名字", gender="", enforcement_cert="", position="科长"),
        file_name="名册.xlsx", mode="partial", dry_run=True))
    assert filled.errors == [] and filled.updated == 1, (filled.errors, filled.message)


@pytest.mark.parametrize("kind", ["results", "exemptions"])
def test_the_exam_templates_run_through_the_import_dry_run(kind, activity, district):
    import_kind = ImportKind.EXAM_RESULTS if kind == "results" else ImportKind.EXAM_EXEMPTIONS
    sample = exam_import_run(record=exam_import_create(
        exam=activity.exam, kind=import_kind, file=template_xlsx(kind), file_name=f"{kind}.xlsx", dry_run=True))
    assert not _file_level(sample.errors), sample.errors
    assert sample.rows == 1 and sample.applied == 0
    person = district.b[2]  # not sat, not exempt
    filled = exam_import_run(record=exam_import_create(
        exam=activity.exam, kind=import_kind, file=_filled(kind, person, unit="", id_number="", taken_at=""),
        file_name=f"{kind}.xlsx", dry_run=True))
    assert filled.applied == 1, (filled.errors, filled.message)


def test_the_signin_template_runs_through_the_attendance_import(activity, district):
    event = activity.events["d"]
    sample = attendance_import(event=event, data=template_xlsx("attendance"), file_name="签到表.xlsx")
    assert sample.rows == 1 and sample.applied == 0 and not _file_level(sample.errors)
    person = district.t1[1]
    filled = attendance_import(event=event, data=_filled("attendance", person, unit="", id_number=""),
                               file_name="签到表.xlsx")
    assert filled.applied == 1, filled.errors


def test_the_certificates_template_runs_through_the_register_dry_run(district):
    sample = certificate_import_run(record=certificate_import_create(
        file=template_xlsx("certificates"), file_name="证件.xlsx", dry_run=True))
    assert not _file_level(sample.errors), sample.errors
    assert sample.rows == 1 and sample.created == 0
    person = district.a[1]
    filled = certificate_import_run(record=certificate_import_create(
        file=_filled("certificates", person, unit=""), file_name="证件.xlsx", dry_run=True))
    assert filled.created == 1, (filled.errors, filled.message)


@pytest.mark.parametrize("kind", TEMPLATE_KINDS)
def test_the_api_gives_each_template_to_whoever_may_upload_it(kind, personas, staff_persona):
    for name, persona in personas.items():
        response = persona.client().get(f"/api/v1/templates/{kind}.xlsx")
        expected = 401 if name == "anonymous" else 200 if name in ALLOWED[kind] else 403
        assert response.status_code == expected, (kind, name, response.content[:200])
        if expected == 200:
            assert response["Content-Type"] == XLSX and "attachment" in response["Content-Disposition"]
            assert _headings(_sheet(response.content)) == _headings(_sheet(template_xlsx(kind)))
        else:
            assert response.json()["code"] in ("permission_denied", "not_authenticated")


def test_an_unknown_template_is_a_json_404(personas):
    for path in ("/api/v1/templates/salaries.xlsx", "/api/v1/templates/roster.csv", "/api/v1/templates/.xlsx"):
        response = personas["legal_office"].client().get(path)
        assert response.status_code == 404 and "detail" in response.json(), path


def test_the_web_gives_each_template_to_whoever_may_upload_it(personas, staff_persona):
    for name, persona in personas.items():
        client = Client()
        if persona.user is not None:
            assert client.login(username=persona.user.username, password=PASSWORD)
        for kind in TEMPLATE_KINDS:
            response = client.get(f"/templates/{kind}.xlsx")
            if name == "anonymous":
                assert response.status_code == 302 and "/login/" in response["Location"]
                continue
            expected = 200 if name in ALLOWED[kind] else 403
            assert response.status_code == expected, (kind, name)
            if expected == 200:
                assert response["Content-Type"] == XLSX
                assert _headings(_sheet(response.content)) == _headings(_sheet(template_xlsx(kind)))
    client = Client()
    client.login(username=personas["legal_office"].user.username, password=PASSWORD)
    assert client.get("/templates/salaries.xlsx").status_code == 404


def test_every_upload_page_links_its_template(personas, activity):
    hr, legal, liaison = Client(), Client(), Client()
    hr.login(username=personas["hr"].user.username, password=PASSWORD)
    legal.login(username=personas["legal_office"].user.username, password=PASSWORD)
    liaison.login(username=personas["liaison_a"].user.username, password=PASSWORD)
    pages = [
        (hr, "/roster/", "roster"),
        (legal, f"/exams/{activity.exam.pk}/", "results"),
        (legal, f"/exams/{activity.exam.pk}/", "exemptions"),
        (legal, f"/events/{activity.events['d'].pk}/", "attendance"),
        (liaison, f"/events/{activity.events['a'].pk}/", "attendance"),
        (legal, "/certificates/", "certificates"),
    ]
    for client, path, kind in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        html = page.content.decode()
        assert f'href="/templates/{kind}.xlsx"' in html and "下载模板" in html, (path, kind)
