from __future__ import annotations

import pytest
from django.urls import reverse

from roster.models import RosterSync, Staff
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import Person, csv_bytes, new_id, people

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(units):
    staff = people(3)
    roster_sync(sync=roster_sync_create(file=csv_bytes(staff), file_name="r.csv"))
    staff[0].name = "改名"
    roster_sync(sync=roster_sync_create(file=csv_bytes(staff), file_name="r2.csv"))
    return staff


def test_staff_page_shows_masked_id_and_change_history_in_chinese(admin_client, synced):
    member = Staff.objects.get(staff_no=synced[0].staff_no)
    page = admin_client.get(reverse("admin:roster_staff_change", args=[member.pk])).content.decode()
    assert synced[0].id_number not in page
    assert member.id_number_masked in page
    assert "变动历史" in page and "改名" in page


def test_staff_list_is_searchable_and_filterable(admin_client, synced, django_assert_max_num_queries):
    url = reverse("admin:roster_staff_changelist")
    assert synced[1].name in admin_client.get(url, {"q": synced[1].staff_no}).content.decode()
    with django_assert_max_num_queries(10):
        page = admin_client.get(url, {"is_active__exact": "1", "unit__id__exact": synced and Staff.objects.first().unit_id})
    assert page.status_code == 200
    for person in synced:
        assert person.id_number not in page.content.decode()


def test_roster_sync_page_is_read_only_and_lists_errors(admin_client, units):
    record = roster_sync_create(file=csv_bytes([Person("1", "", new_id(), "A")]), file_name="bad.csv")
    roster_sync(sync=record)
    page = admin_client.get(reverse("admin:roster_rostersync_change", args=[record.pk])).content.decode()
    assert "姓名为空" in page
    assert 'name="_save"' not in page
    assert RosterSync.objects.count() == 1


def test_the_admin_refuses_a_unit_parent_inside_its_own_subtree(admin_client, units):
    from roster.models import Unit

    town, team = Unit.objects.get(code="T"), Unit.objects.get(code="T1")
    url = reverse("admin:roster_unit_change", args=[town.pk])
    data = {"code": town.code, "name": town.name, "parent": team.pk, "kind": town.kind, "is_active": "on",
            "sort_order": town.sort_order}
    response = admin_client.post(url, data)
    assert response.status_code == 200 and "会成环" in response.content.decode()
    town.refresh_from_db()
    assert town.parent.code == "D"
    data["parent"] = town.pk
    assert "会成环" in admin_client.post(url, data).content.decode()
    data["parent"] = Unit.objects.get(code="A").pk
    assert admin_client.post(url, data).status_code == 302
    team.refresh_from_db()
    assert team.path.startswith(Unit.objects.get(code="A").path)
