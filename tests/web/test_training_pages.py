"""「学时未达标」 (by year and unit, downloads audited), 「学时要求」 (legal_office), and an
event's printable sign-in sheet (DOCX, for those who run the event; audited)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from docx import Document
from openpyxl import load_workbook

from audit.models import AuditAction, AuditEvent
from roster.models import Staff, Unit
from training.attendance import attendance_record
from training.events import training_event_create
from training.models import TrainingEvent, TrainingTarget
from training.signin_sheet import ROTATING_NOTE

pytestmark = pytest.mark.django_db


@pytest.fixture
def year():
    return timezone.localdate().year


@pytest.fixture
def lecture(district, year):
    """A's first person has 40 hours; nobody else has any."""
    event = training_event_create(title="执法培训", kind="enforcement_training", date=timezone.localdate(), hours="40",
                                  organiser=Unit.objects.get(code="A"))
    attendance_record(event=event, staff_ids=[Staff.objects.get(staff_no=district.a[0].staff_no).pk], status="present")
    return event


def listed(page) -> set[str]:
    return {row["staff_no"] for row in page.context["rows"]}


def test_the_page_lists_who_is_below_by_unit_for_the_liaison_and_filters(personas, district, lecture, year):
    liaison = personas["liaison_a"].client()
    page = liaison.get("/training/hours-below/")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert listed(page) == {p.staff_no for p in district.a[1:]}
    assert "学时未达标" in page.content.decode()
    # another subtree: 404, as an unknown unit
    assert liaison.get("/training/hours-below/?unit=B").status_code == 404
    office = personas["legal_office"].client()
    assert listed(office.get("/training/hours-below/")) == {p.staff_no for p in district.everybody[1:]}
    assert listed(office.get("/training/hours-below/?unit=T")) == {p.staff_no for p in district.t1}
    # last year nobody had any hours
    assert listed(office.get(f"/training/hours-below/?year={year - 1}&unit=A")) == {p.staff_no for p in district.a}
    # hr and viewers keep no training data
    assert personas["hr"].client().get("/training/hours-below/").status_code == 403
    assert personas["viewer"].client().get("/training/hours-below/").status_code == 403


def test_the_menu_offers_it_to_those_who_may_read_it(personas, district):
    assert "/training/hours-below/" in personas["liaison_a"].client().get("/events/").content.decode()
    assert "/training/hours-below/" not in personas["hr"].client().get("/roster/").content.decode()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_downloads_hold_the_list_and_are_audited(personas, district, lecture, year, fmt):
    response = personas["liaison_a"].client().get(f"/training/hours-below.{fmt}?year={year}&unit=A")
    assert response.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = [[str(c.value or "") for c in row] for row in sheet.iter_rows()]
        rows = rows[next(i for i, r in enumerate(rows) if r[0] == "工号"):]
    assert rows[0][:2] == ["工号", "姓名"]
    assert {r[0] for r in rows[1:]} == {p.staff_no for p in district.a[1:]}
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.EXPORT and event.rows == 5 and event.target == f"training:{year}:hours_below:A"
    assert event.user == personas["liaison_a"].user


def test_targets_per_category_change_the_list(personas, district, lecture, year):
    Staff.objects.filter(staff_no__in=[p.staff_no for p in district.b]).update(category="工勤")
    office = personas["legal_office"].client()
    page = office.post("/training/targets/", {"year": year, "category": "工勤", "hours": "0"})
    assert page.status_code == 302
    assert TrainingTarget.objects.get(year=year, category="工勤").hours == Decimal("0")
    assert listed(office.get("/training/hours-below/?unit=B")) == set()
    office.post("/training/targets/", {"year": year, "category": "", "hours": "50"})
    # 40 hours is below a default of 50 now
    assert district.a[0].staff_no in listed(office.get("/training/hours-below/?unit=A"))
    bad = office.post("/training/targets/", {"year": year, "category": "工勤", "hours": "-3"})
    assert bad.status_code == 400 and "应修学时“-3”无效" in bad.content.decode()
    target = TrainingTarget.objects.get(year=year, category="工勤")
    assert office.post(f"/training/targets/{target.pk}/delete/").status_code == 302
    assert not TrainingTarget.objects.filter(pk=target.pk).exists()
    # a liaison reads the list but sets no targets
    assert personas["liaison_a"].client().post("/training/targets/", {"year": year, "hours": "1"}).status_code == 403


def _sheet(response) -> tuple[Document, list[list[str]]]:
    document = Document(io.BytesIO(response.content))
    table = document.tables[0]
    return document, [[cell.text for cell in row.cells] for row in table.rows]


def test_the_signin_sheet_lists_the_expected_people_of_the_unit(personas, district, lecture):
    TrainingEvent.objects.filter(pk=lecture.pk).update(signin_rotates=False, location="区政府三楼会议室")
    response = personas["liaison_a"].client().get(f"/events/{lecture.pk}/signin-sheet.docx?unit=A")
    assert response.status_code == 200 and response.content[:2] == b"PK"
    document, rows = _sheet(response)
    assert rows[0] == ["序号", "工号", "姓名", "单位", "职务", "签名"]
    assert [r[1] for r in rows[1:]] == [p.staff_no for p in district.a]
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(1, 7)] and all(r[5] == "" for r in rows[1:])
    text = "\n".join(p.text for p in document.paragraphs)
    assert "执法培训 签到表" in text and "区政府三楼会议室" in text
    section = document.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    # a fixed sign-in link: its QR code is printed
    assert len(document.inline_shapes) == 1
    audit = AuditEvent.objects.get()
    assert audit.target == f"event:{lecture.pk}:signin_sheet:A" and audit.rows == 6


def test_a_rotating_event_prints_no_qr_code_and_a_units_event_only_its_people(personas, district, units):
    event = training_event_create(title="旁听庭审", kind="court_observation", date=timezone.localdate(), hours="3",
                                  organiser=units["B"], audience="units", audience_units=[units["T"]])
    response = personas["legal_office"].client().get(f"/events/{event.pk}/signin-sheet.docx")
    document, rows = _sheet(response)
    assert {r[1] for r in rows[1:]} == {p.staff_no for p in district.t1}
    assert len(document.inline_shapes) == 0
    assert ROTATING_NOTE in [p.text for p in document.paragraphs]


def test_only_those_who_run_the_event_get_its_sheet(personas, district, lecture):
    # A's liaison does not run an event organised by B, nor may a viewer
    other = training_event_create(title="司法局讲座", kind="lecture", date=timezone.localdate(), hours="2",
                                  organiser=Unit.objects.get(code="B"))
    assert personas["liaison_a"].client().get(f"/events/{other.pk}/signin-sheet.docx").status_code == 404
    assert personas["liaison_a"].client().get(f"/events/{lecture.pk}/signin-sheet.docx?unit=B").status_code == 404
    assert personas["viewer"].client().get(f"/events/{lecture.pk}/signin-sheet.docx").status_code == 403
    assert not AuditEvent.objects.exists()
    # the organiser's page links to it
    assert f"/events/{lecture.pk}/signin-sheet.docx" in personas["liaison_a"].client().get(
        f"/events/{lecture.pk}/").content.decode()
