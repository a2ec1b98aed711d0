"""Staff search and the person page: hr and legal_office everywhere, a liaison within their
subtree (others 404), details masked as the roles say, the change history with phones masked
for those who may not see them."""

from __future__ import annotations

import pytest

from roster.models import Staff
from roster.staff import staff_update

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["hr", "legal_office"])
def test_the_offices_find_people_by_staff_no_name_or_phone(personas, district, persona):
    client = personas[persona].client()
    someone = district.b[0]
    by_no = client.get(f"/people/?q={someone.staff_no}")
    assert [r["staff"].staff_no for r in by_no.context["rows"]] == [someone.staff_no]
    by_name = client.get("/people/?q=人员10")  # 人员101..104 and nobody else
    assert {r["staff"].staff_no for r in by_name.context["rows"]} == {p.staff_no for p in district.b}
    by_phone = client.get(f"/people/?q={someone.phone[-4:]}")
    assert someone.staff_no in {r["staff"].staff_no for r in by_phone.context["rows"]}
    full_width = client.get("/people/?q=" + someone.staff_no.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}))
    assert [r["staff"].staff_no for r in full_width.context["rows"]] == [someone.staff_no]
    assert client.get("/people/?q=没有这个人").context["rows"] == []
    assert client.get("/people/").context["results"] is None


def test_a_liaison_searches_and_reads_only_their_subtree(personas, district):
    client = personas["liaison_a"].client()
    found = client.get("/people/?q=人员")
    assert {r["staff"].unit.code for r in found.context["rows"]} == {"A"}
    assert client.get(f"/people/{district.b[0].staff_no}/").status_code == 404
    assert client.get(f"/people/{district.a[0].staff_no}/").status_code == 200


def test_viewers_have_no_staff_search(personas, district):
    assert personas["viewer"].client().get("/people/?q=人员").status_code == 403


def test_the_person_page_shows_masked_details_history_and_the_record_link(personas, district):
    member = Staff.objects.get(staff_no=district.a[0].staff_no)
    old_phone = member.phone
    staff_update(staff=member, changes={"phone": "13912345678", "position": "科长"})
    page = personas["legal_office"].client().get(f"/people/{member.staff_no}/")
    body = page.content.decode()
    assert district.a[0].id_number not in body and member.id_number_masked in body
    assert "13912345678" in body and 'id="record-link"' in body
    changes = {(c["label"], c["old"], c["new"]) for c in page.context["changes"]}
    assert ("职务", "科员", "科长") in changes and ("手机号", old_phone, "13912345678") in changes

    # hr sees the phone in full, but reads no learning records
    hr = personas["hr"].client().get(f"/people/{member.staff_no}/").content.decode()
    assert "13912345678" in hr and 'id="record-link"' not in hr


def test_a_liaison_sees_the_phones_of_their_own_people(personas, district):
    member = Staff.objects.get(staff_no=district.a[1].staff_no)
    staff_update(staff=member, changes={"phone": "13912340000"})
    page = personas["liaison_a"].client().get(f"/people/{member.staff_no}/")
    assert "13912340000" in page.content.decode()


def test_the_menu_offers_staff_search_to_the_roles_that_read_staff(personas, district):
    assert 'href="/people/"' in personas["hr"].client().get("/roster/").content.decode()
    assert 'href="/people/"' not in personas["viewer"].client().get("/reports/annual/").content.decode()
