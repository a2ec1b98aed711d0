"""The 个人学法档案 page /staff/<staff_no>/: the record of records.selectors.staff_record, scoped
as the API is, printable on A4, downloadable (audited); linked from the not-sat and attendance
lists; and the staff role's web: 「我的学法档案」 and nothing of other people."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from access.services import user_role_set
from audit.models import AuditEvent
from exams.models import Candidate
from roster.models import Staff, Unit
from roster.staff import staff_update
from tests.web.conftest import Persona
from training.attendance import attendance_record
from training.events import training_event_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def self_a(district) -> Persona:
    """The staff account of A's first person (0001)."""
    role, _ = user_role_set(username="self_a", role="staff", staff_no=district.a[0].staff_no)
    return Persona("self_a", role.user)


@pytest.fixture
def lecture(district):
    event = training_event_create(title="依法行政讲座", kind="lecture", date=timezone.localdate(), hours="2.5")
    ids = dict(Staff.objects.values_list("staff_no", "id"))
    attendance_record(event=event, staff_ids=[ids["0001"], ids["0101"]], status="present")
    attendance_record(event=event, staff_ids=[ids["0002"]], status="absent")
    return event


def test_the_page_shows_each_year_with_hours_attendances_and_exams(personas, district, exam, lecture):
    Candidate.objects.filter(exam=exam, staff__staff_no="0001").update(best_score=86, attempt_count=2, passed=True)
    page = personas["legal_office"].client().get("/staff/0001/")
    body = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert "<title>个人学法档案 · 人员1" in body
    year = timezone.localdate().year
    assert f'id="year-{year}"' in body
    section = body[body.index(f'id="year-{year}"'):]
    assert '<div class="v hours">2.5</div>' in section and '<div class="v missing">37.5</div>' in section
    assert "依法行政讲座" in section and "出席" in section
    assert '<td class="result">合格</td><td class="num">86</td><td class="num">2</td>' in section


def test_the_page_has_an_a4_print_stylesheet(personas, district, exam):
    body = personas["legal_office"].client().get("/staff/0001/").content.decode()
    assert 'href="/static/web/record-print.css" media="print"' in body
    from django.contrib.staticfiles import finders

    css = open(finders.find("web/record-print.css"), encoding="utf-8").read()
    assert "size: A4" in css and "header.top" in css and "display: none" in css


def test_scoping_as_the_api(personas, district, exam):
    assert personas["liaison_a"].client().get("/staff/0001/").status_code == 200
    assert personas["liaison_a"].client().get("/staff/0101/").status_code == 404
    assert personas["liaison_t"].client().get("/staff/0201/").status_code == 200
    assert personas["legal_office"].client().get("/staff/9999/").status_code == 404
    for role in ("hr", "viewer"):
        assert personas[role].client().get("/staff/0001/").status_code == 403, role


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_downloads_are_audited(personas, district, exam, lecture, fmt):
    response = personas["liaison_a"].client().get(f"/staff/0001/?format={fmt}")
    assert response.status_code == 200 and response.content[:2] == b"PK"
    if fmt == "xlsx":
        assert load_workbook(io.BytesIO(response.content))["年度汇总"]["A2"].value == "0001"
    audit = AuditEvent.objects.get()
    # a year, the lecture, the exam
    assert (audit.user.username, audit.target, audit.rows) == ("liaison_a", "staff:0001:record", 3)
    assert personas["liaison_a"].client().get("/staff/0001/?format=pdf").status_code == 404


def test_the_not_sat_list_links_to_each_record(personas, district, exam):
    body = personas["liaison_a"].client().get(f"/exams/{exam.pk}/not-sat/A/").content.decode()
    for person in district.a:
        assert f'<a href="/staff/{person.staff_no}/" title="个人学法档案">{person.name}</a>' in body


def test_the_attendance_list_links_to_records_the_caller_may_read(personas, district, lecture):
    legal = personas["legal_office"].client().get(f"/events/{lecture.pk}/").content.decode()
    for staff_no, name in (("0001", "人员1"), ("0101", "人员101"), ("0002", "人员2")):
        assert f'<a href="/staff/{staff_no}/" title="个人学法档案">{name}</a>' in legal
    # 0002 moved to the town after attending: A's liaison still sees the row (the unit of the
    # day) but not the record (their current unit is elsewhere): no link
    staff_update(staff=Staff.objects.get(staff_no="0002"), changes={"unit": Unit.objects.get(code="T1")})
    liaison = personas["liaison_a"].client().get(f"/events/{lecture.pk}/").content.decode()
    assert '<a href="/staff/0001/"' in liaison and "人员2" in liaison and '<a href="/staff/0002/"' not in liaison


def test_a_staff_user_lands_on_their_record_and_sees_nothing_else(self_a, exam, lecture):
    client = self_a.client()
    home = client.get("/")
    assert home.status_code == 302 and home["Location"] == "/me/"
    mine = client.get("/me/", follow=True)
    assert mine.redirect_chain[-1][0] == "/staff/0001/"
    body = mine.content.decode()
    nav = body[body.index("<nav"):body.index("</nav>")]
    assert nav.count("<a ") == 1 and ">我的学法档案</a>" in nav
    assert "本人（人员1）" in body
    assert client.get("/staff/0002/").status_code == 404
    for path in ("/units/", "/units/A/", "/exams/", f"/exams/{exam.pk}/", f"/exams/{exam.pk}/not-sat/A/", "/events/",
                 f"/events/{lecture.pk}/", "/roster/", "/reports/annual/"):
        assert client.get(path).status_code == 403, path


def test_a_staff_user_whose_person_left_has_no_page(self_a, district):
    staff_update(staff=Staff.objects.get(staff_no="0001"), changes={"is_active": False})
    client = self_a.client()
    assert client.get("/").status_code == 403
    assert client.get("/me/").status_code == 403
    assert client.get("/staff/0001/").status_code == 403


def test_the_record_page_runs_a_fixed_number_of_queries(personas, district, exam, lecture, django_assert_max_num_queries):
    client = personas["legal_office"].client()
    client.get("/staff/0001/")
    with django_assert_max_num_queries(12):
        assert client.get("/staff/0101/").status_code == 200
