"""The not-sat list: scoped to the caller's subtree, phones exactly as the API shows them,
sortable, counted in the title, downloadable as Excel (audited); another subtree's URL is 404."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from access.scoping import scope_for
from audit.models import AuditAction, AuditEvent
from exams.models import Candidate, Exam
from roster.models import Staff, Unit
from roster.staff import staff_update

pytestmark = pytest.mark.django_db


def sit(exam, *staff_nos: str) -> None:
    Candidate.objects.filter(exam=exam, staff__staff_no__in=staff_nos).update(best_score=80, attempt_count=1, passed=True)


def test_a_liaison_sees_who_in_their_unit_has_not_sat_with_the_count_in_the_title(personas, district, exam):
    sit(exam, district.a[0].staff_no)
    page = personas["liaison_a"].client().get(f"/exams/{exam.pk}/not-sat/A/")
    body = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert "未参考人员（5 人）" in body and "<title>未参考人员（5 人）" in body
    names = [row["name"] for row in page.context["rows"]]
    assert names == [p.name for p in district.a[1:]]
    assert not {p.name for p in district.b + district.t1} & set(body.split())
    assert 'class="sortable"' in body
    for person in district.everybody:
        assert person.id_number not in body


def test_phones_are_shown_exactly_as_the_api_shows_them(personas, district, exam):
    """hr, legal_office and a liaison of the person's own subtree see the phone in full; a
    person the liaison's list holds (their unit while the exam was open) who has since moved
    elsewhere shows only the last 4 digits, as the API's staff endpoint shows them."""
    # the exam has closed, and its candidates keep their units as they were then
    today = timezone.localdate()
    Exam.objects.filter(pk=exam.pk).update(opens_on=today - dt.timedelta(days=30), closes_on=today - dt.timedelta(days=1))
    moved = Staff.objects.get(staff_no=district.a[5].staff_no)
    staff_update(staff=moved, changes={"unit": Unit.objects.get(code="B")})
    liaison = personas["liaison_a"]
    rows = {r["staff_no"]: r["phone"] for r in
            personas["liaison_a"].client().get(f"/exams/{exam.pk}/not-sat/A/").context["rows"]}
    scope = scope_for(liaison.user)
    for staff in Staff.objects.select_related("unit").filter(staff_no__in=rows):
        assert rows[staff.staff_no] == scope.phone_for(staff)
    assert rows[moved.staff_no] == "*******" + district.a[5].phone[-4:]
    assert rows[district.a[0].staff_no] == district.a[0].phone
    office = personas["legal_office"].client().get(f"/exams/{exam.pk}/not-sat/D/").context["rows"]
    assert {r["staff_no"]: r["phone"] for r in office}[moved.staff_no] == district.a[5].phone


def test_another_units_url_is_not_found_for_a_liaison(personas, district, exam):
    client = personas["liaison_a"].client()
    for code in ("B", "D", "T1", "NOPE"):
        assert client.get(f"/exams/{exam.pk}/not-sat/{code}/").status_code == 404
        assert client.get(f"/exams/{exam.pk}/not-sat/{code}/xlsx/").status_code == 404
    assert client.get(f"/exams/{exam.pk}/not-sat/?unit=B").status_code == 404
    assert not AuditEvent.objects.exists()


def test_a_liaison_of_a_parent_unit_sees_the_sub_units(personas, district, exam):
    page = personas["liaison_t"].client().get(f"/exams/{exam.pk}/not-sat/T1/")
    assert page.status_code == 200 and len(page.context["rows"]) == len(district.t1)
    start = personas["liaison_t"].client().get(f"/exams/{exam.pk}/not-sat/")
    assert start["Location"] == f"/exams/{exam.pk}/not-sat/T/"


def test_the_office_picks_any_unit(personas, district, exam):
    client = personas["legal_office"].client()
    assert client.get(f"/exams/{exam.pk}/not-sat/?unit=B")["Location"] == f"/exams/{exam.pk}/not-sat/B/"
    page = client.get(f"/exams/{exam.pk}/not-sat/D/")
    assert len(page.context["rows"]) == len(district.everybody)
    assert '<option value="T1"' in page.content.decode()


@pytest.mark.parametrize("persona", ["hr", "viewer"])
def test_roles_without_the_list_are_refused(personas, exam, persona):
    assert personas[persona].client().get(f"/exams/{exam.pk}/not-sat/A/").status_code == 403


def test_the_excel_download_holds_the_list_as_shown_and_is_audited(personas, district, exam):
    sit(exam, district.a[1].staff_no)
    client = personas["liaison_a"].client()
    response = client.get(f"/exams/{exam.pk}/not-sat/A/xlsx/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("工号", "姓名", "单位代码", "单位名称", "职务", "手机号")
    expected = [p for p in district.a if p.staff_no != district.a[1].staff_no]
    assert [(r[0], r[1], r[5]) for r in rows[1:]] == [(p.staff_no, p.name, p.phone) for p in expected]
    audit = AuditEvent.objects.get()
    assert (audit.action, audit.rows, audit.username) == (AuditAction.EXPORT, 5, "liaison_a")
    assert audit.target == f"exam:{exam.pk}:not_sat:A"


def test_not_sat_page_and_download_run_a_fixed_number_of_queries(personas, district, exam,
                                                                  django_assert_max_num_queries):
    client = personas["liaison_t"].client()
    # (one of them asks whether the exam has a make-up, whose own figures the page shows beside)
    with django_assert_max_num_queries(10):
        small = client.get(f"/exams/{exam.pk}/not-sat/T1/")
    with django_assert_max_num_queries(10):
        client.get(f"/exams/{exam.pk}/not-sat/T1/xlsx/")
    office = personas["legal_office"].client()
    with django_assert_max_num_queries(10):
        big = office.get(f"/exams/{exam.pk}/not-sat/D/")
    assert len(big.context["rows"]) > 4 * len(small.context["rows"])
