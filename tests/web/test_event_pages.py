"""Training events: the office creates any, a liaison those of their subtree; sign-in sheet
upload; attendance narrowed to the caller's subtree; the QR code full-screen."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from roster.models import Unit
from sheets.models import ImportRecord
from tests.helpers import csv_bytes
from training.events import training_event_create
from training.models import Attendance, TrainingEvent, TrainingKind

pytestmark = pytest.mark.django_db

SHEET_HEADER = ["姓名", "工号", "单位"]


def event_form(**fields) -> dict:
    return {"title": "宪法宣讲", "kind": TrainingKind.LECTURE, "date": "2026-04-01", "hours": "1.5", **fields}


def make_event(title: str, organiser: str | None) -> TrainingEvent:
    unit = Unit.objects.get(code=organiser) if organiser else None
    return training_event_create(title=title, kind=TrainingKind.LECTURE, date=dt.date(2026, 4, 1), hours="2",
                                 organiser=unit)


def sheet(rows) -> SimpleUploadedFile:
    return SimpleUploadedFile("签到表.csv", csv_bytes(rows, header=SHEET_HEADER))


def test_the_office_creates_a_district_event(personas, units):
    response = personas["legal_office"].client().post("/events/new/", event_form(organiser=""))
    event = TrainingEvent.objects.get()
    assert response["Location"] == f"/events/{event.pk}/" and event.organiser is None and str(event.hours) == "1.50"


def test_a_liaison_creates_events_only_for_units_of_their_subtree(personas, units):
    client = personas["liaison_t"].client()
    form = client.get("/events/new/").content.decode()
    assert 'value="T1"' not in form  # choices are by id
    choices = {u.code for u in client.get("/events/new/").context["form"].fields["organiser"].queryset}
    assert choices == {"T", "T1"}
    refused = client.post("/events/new/", event_form(organiser=units["B"].pk))
    assert refused.status_code == 200 and not TrainingEvent.objects.exists()
    refused = client.post("/events/new/", event_form(organiser=""))
    assert "这个字段是必填项" in refused.content.decode() or "该字段是必填项" in refused.content.decode()
    created = client.post("/events/new/", event_form(organiser=units["T1"].pk))
    assert created.status_code == 302 and TrainingEvent.objects.get().organiser.code == "T1"


def test_a_liaison_reads_the_events_that_concern_their_subtree_and_runs_only_their_own(personas, units):
    mine, district = make_event("镇讲座", "T1"), make_event("全区讲座", None)
    other = training_event_create(title="局讲座", kind="lecture", date=dt.date(2026, 3, 1), hours="2",
                                  organiser=units["B"], audience="units", audience_units=[units["B"]])
    client = personas["liaison_t"].client()
    listed = {e.pk for e in client.get("/events/").context["events"]}
    assert listed == {mine.pk, district.pk}
    assert client.get(f"/events/{other.pk}/").status_code == 404
    # the district's lecture is readable, but its QR code and sheet upload belong to its organiser
    page = client.get(f"/events/{district.pk}/")
    assert page.status_code == 200 and page.context["form"] is None and 'id="qr-link"' not in page.content.decode()
    assert client.get(f"/events/{district.pk}/qr/").status_code == 404
    assert client.post(f"/events/{district.pk}/sheet/", {"file": sheet([["某人", "0001", "测试镇"]])}).status_code == 404
    own = client.get(f"/events/{mine.pk}/")
    assert own.context["form"] is not None and 'id="qr-link"' in own.content.decode()
    office = [e.pk for e in personas["legal_office"].client().get("/events/").context["events"]]
    assert set(office) == {mine.pk, other.pk, district.pk}


def test_a_sign_in_sheet_is_imported_and_its_problems_shown(personas, district):
    event = make_event("镇讲座", "T")
    t1, b = district.t1, district.b
    rows = [[t1[0].name, t1[0].staff_no, "测试镇综合执法队"], [b[0].name, b[0].staff_no, "测试区司法局"],
            ["查无此人", "8888", "测试镇"]]
    # a liaison's sheet records people of their subtree only (as through the API)
    client = personas["liaison_t"].client()
    response = client.post(f"/events/{event.pk}/sheet/", {"file": sheet(rows)})
    record = ImportRecord.objects.get()
    assert response["Location"] == f"/imports/{record.pk}/"
    assert list(Attendance.objects.filter(event=event).values_list("staff__staff_no", flat=True)) == [t1[0].staff_no]
    page = client.get(response["Location"])
    assert [p["row"] for p in page.context["problems"]] == [3, 4]
    assert "名册中无此人" in page.content.decode()
    # the office records anybody; the attendance list shows the liaison's subtree only
    office = personas["legal_office"].client()
    office.post(f"/events/{event.pk}/sheet/", {"file": sheet(rows)})
    assert Attendance.objects.filter(event=event).count() == 2
    listed = [a.staff.staff_no for a in client.get(f"/events/{event.pk}/").context["attendance"]]
    assert listed == [t1[0].staff_no]
    listed = [a.staff.staff_no for a in office.get(f"/events/{event.pk}/").context["attendance"]]
    assert sorted(listed) == sorted([t1[0].staff_no, b[0].staff_no])


def test_an_unreadable_sheet_is_refused_on_the_event_page(personas, district):
    event = make_event("全区讲座", None)
    client = personas["legal_office"].client()
    response = client.post(f"/events/{event.pk}/sheet/", {"file": SimpleUploadedFile("x.csv", "只有一列\n张三\n".encode())})
    assert response.status_code == 400 and "签到表" in response.content.decode()
    assert not Attendance.objects.exists()


def test_viewers_and_hr_do_not_see_events(personas, units):
    event = make_event("全区讲座", None)
    for persona in ("viewer", "hr"):
        assert personas[persona].client().get(f"/events/{event.pk}/").status_code == 403


def test_the_qr_page_shows_the_sign_in_code_full_screen(personas, units):
    event = make_event("全区讲座", None)
    client = personas["legal_office"].client()
    body = client.get(f"/events/{event.pk}/qr/").content.decode()
    # a rotating code (the default): the organiser's image, reloaded each period, and no address
    assert f'src="/events/{event.pk}/qr/code.svg"' in body and 'class="projection"' in body
    assert event.signin_token not in body

    TrainingEvent.objects.filter(pk=event.pk).update(signin_rotates=False)  # an online event: a fixed link
    body = client.get(f"/events/{event.pk}/qr/").content.decode()
    assert f'src="/signin/{event.signin_token}/qr.svg"' in body and f"/signin/{event.signin_token}/" in body
    assert client.get(f"/signin/{event.signin_token}/qr.svg")["Content-Type"] == "image/svg+xml"


def test_an_online_event_is_created_without_rotation(personas, units):
    personas["legal_office"].client().post("/events/new/", event_form(organiser=""))
    assert TrainingEvent.objects.get().signin_rotates is False  # the box left unticked in the form
    personas["legal_office"].client().post("/events/new/", event_form(organiser="", title="现场", signin_rotates="on"))
    assert TrainingEvent.objects.get(title="现场").signin_rotates is True


def test_event_page_runs_a_fixed_number_of_queries(personas, district, django_assert_max_num_queries):
    event = make_event("全区讲座", None)
    client = personas["legal_office"].client()
    rows = [[p.name, p.staff_no, ""] for p in district.everybody[:2]]
    client.post(f"/events/{event.pk}/sheet/", {"file": sheet(rows)})
    # (10: one more than before for the units of the printable sign-in sheet's picker)
    with django_assert_max_num_queries(10):
        client.get(f"/events/{event.pk}/")
    rows = [[p.name, p.staff_no, ""] for p in district.everybody]
    client.post(f"/events/{event.pk}/sheet/", {"file": sheet(rows)})
    with django_assert_max_num_queries(10):
        page = client.get(f"/events/{event.pk}/")
    assert len(page.context["attendance"]) == len(district.everybody)
    with django_assert_max_num_queries(6):
        client.get("/events/")
    body = page.content.decode()
    assert not re.search(r"\d{17}[\dX]", body)  # no ID number anywhere


def test_the_events_list_filters_by_year_and_keeps_the_year_across_pages(personas, units):
    for n in range(31):
        training_event_create(title=f"讲座{n}", kind=TrainingKind.LECTURE, date=dt.date(2025, 1, 1) + dt.timedelta(n),
                              hours="2")
    make_event("今年讲座", None)
    client = personas["legal_office"].client()
    assert len(client.get("/events/").context["events"].paginator.object_list) == 32
    page = client.get("/events/?year=2025")
    assert page.context["events"].paginator.count == 31 and "2025 年培训活动" in page.content.decode()
    assert 'href="?year=2025&amp;page=2"' in page.content.decode()
    assert {e.title for e in client.get("/events/?year=2026").context["events"]} == {"今年讲座"}
    assert client.get("/events/?year=nonsense").context["events"].paginator.count == 32


def test_a_liaisons_events_heading_does_not_claim_district_events_as_their_own(personas, units):
    make_event("全区讲座", None)
    text = personas["liaison_t"].client().get("/events/").content.decode()
    assert "主办的活动" not in text and "面向全区" in text


def test_hours_read_the_same_way_whole_or_not(personas, units):
    training_event_create(title="半天", kind=TrainingKind.LECTURE, date=dt.date(2026, 4, 1), hours="1.5")
    make_event("一天", None)
    body = personas["legal_office"].client().get("/events/").content.decode()
    assert '<td class="num">1.5</td>' in body and '<td class="num">2</td>' in body and "1.50" not in body
