"""「撤销本次同步」 on a sync's page: the preview (a dry run of the undo) first, then the
confirm step, with the conflicts listed and skipped when asked."""

from __future__ import annotations

import re

import pytest

from roster.idnumbers import mask_phone
from roster.models import RosterSync, Staff, SyncKind, SyncSource
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import csv_bytes

pytestmark = pytest.mark.django_db


def wrong_sync(district) -> RosterSync:
    rows = [type(p)(**vars(p)) for p in district.everybody]
    rows[0].name = "改错了"
    rows[1].phone = "13911112222"
    result = roster_sync(sync=roster_sync_create(file=csv_bytes(rows), file_name="wrong.csv"))
    assert result.applied and result.updated == 2
    return RosterSync.objects.get(pk=result.sync_id)


def sync_id(response) -> int:
    return int(re.search(r"/roster/syncs/(\d+)/", response["Location"]).group(1))


def test_undo_shows_the_preview_then_confirms(personas, district, committed):
    target = wrong_sync(district)
    client = personas["hr"].client()
    page = client.get(f"/roster/syncs/{target.pk}/").content.decode()
    assert "撤销本次同步" in page and 'id="undo-button"' in page
    with committed():
        response = client.post(f"/roster/syncs/{target.pk}/undo/")
    preview = RosterSync.objects.get(pk=sync_id(response))
    assert (preview.kind, preview.dry_run, preview.undoes_id, preview.source) == (SyncKind.UNDO, True, target.pk,
                                                                                  SyncSource.WEB)
    assert Staff.objects.get(staff_no=district.a[0].staff_no).name == "改错了"  # a preview changes nothing
    body = client.get(response["Location"]).content.decode()
    assert "撤销预览" in body and "确认撤销" in body and 'id="conflicts"' not in body
    with committed():
        done = client.post(f"/roster/syncs/{target.pk}/undo/", {"confirm": "1"})
    undo = RosterSync.objects.get(pk=sync_id(done))
    assert undo.applied and not undo.dry_run
    assert Staff.objects.get(staff_no=district.a[0].staff_no).name == district.a[0].name
    after = client.get(f"/roster/syncs/{target.pk}/").content.decode()
    assert 'id="undone-by"' in after and 'id="undo-button"' not in after
    listing = client.get("/roster/").content.decode()
    assert f"撤销 #{target.pk}" in listing
    # the undo's own page offers to undo it in turn
    assert 'id="undo-button"' in client.get(f"/roster/syncs/{undo.pk}/").content.decode()


def test_the_preview_lists_conflicts_masked_and_confirming_skips_them(personas, district, committed):
    target = wrong_sync(district)
    Staff.objects.filter(staff_no=district.a[1].staff_no).update(phone="13733334444")
    client = personas["hr"].client()
    with committed():
        response = client.post(f"/roster/syncs/{target.pk}/undo/")
    body = client.get(response["Location"]).content.decode()
    assert 'id="conflicts"' in body and mask_phone("13733334444") in body and "13733334444" not in body
    assert "跳过冲突，确认撤销" in body
    with committed():
        done = client.post(f"/roster/syncs/{target.pk}/undo/", {"confirm": "1", "skip_conflicts": "1"})
    undo = RosterSync.objects.get(pk=sync_id(done))
    assert undo.applied and undo.preview["skipped"] == 1
    assert Staff.objects.get(staff_no=district.a[1].staff_no).phone == "13733334444"
    assert Staff.objects.get(staff_no=district.a[0].staff_no).name == district.a[0].name


def test_only_hr_may_undo(personas, district):
    target = wrong_sync(district)
    legal = personas["legal_office"].client()
    assert 'id="undo-button"' not in legal.get(f"/roster/syncs/{target.pk}/").content.decode()
    assert legal.post(f"/roster/syncs/{target.pk}/undo/").status_code == 403
    assert not RosterSync.objects.filter(kind=SyncKind.UNDO).exists()
