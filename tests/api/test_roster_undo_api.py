"""POST /api/v1/roster/syncs/{id}/undo/: 202 with the new sync record, the work on commit
through the job helper; 409 with the conflicts; 400/409 refusals."""

from __future__ import annotations

import pytest

from config.jobs import JobStatus
from roster.idnumbers import mask_phone
from roster.models import RosterSync, Staff, SyncKind, SyncSource
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import csv_bytes

pytestmark = pytest.mark.django_db


def wrong_sync(district) -> RosterSync:
    rows = [type(p)(**vars(p)) for p in district.a + district.b + district.t1[:-1]]  # T1's last deactivated
    rows[0].name = "改错了"
    rows[0].phone = "13911112222"
    result = roster_sync(sync=roster_sync_create(file=csv_bytes(rows), file_name="wrong.csv"))
    assert result.applied and result.updated == 1 and result.deactivated == 1
    return RosterSync.objects.get(pk=result.sync_id)


def undo(client, sync: RosterSync, **body):
    return client.post(f"/api/v1/roster/syncs/{sync.pk}/undo/", body, format="json")


def test_undo_answers_202_and_runs_once_committed(personas, district, django_capture_on_commit_callbacks):
    target = wrong_sync(district)
    client = personas["hr"].client()
    with django_capture_on_commit_callbacks(execute=True):
        response = undo(client, target)
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["undoes"], body["status"], body["dry_run"]) == ("undo", target.pk, "queued", False)
    record = RosterSync.objects.get(pk=body["id"])
    assert (record.source, record.started_by) == (SyncSource.API, personas["hr"].user)
    done = client.get(f"/api/v1/roster/syncs/{record.pk}/").json()
    assert done["status"] == "succeeded" and done["applied"]
    assert done["undo"]["reverted"] == {"updated": 1, "reactivated": 1, "deactivated": 0}
    first = Staff.objects.get(staff_no=district.a[0].staff_no)
    assert (first.name, first.phone) == (district.a[0].name, district.a[0].phone)
    assert Staff.objects.get(staff_no=district.t1[-1].staff_no).is_active
    again = undo(client, target)
    assert again.status_code == 409 and "不能重复撤销" in again.json()["detail"]


def test_a_dry_run_undo_changes_nothing(personas, district, django_capture_on_commit_callbacks):
    target = wrong_sync(district)
    client = personas["hr"].client()
    with django_capture_on_commit_callbacks(execute=True):
        response = undo(client, target, dry_run=True)
    assert response.status_code == 202
    done = client.get(f"/api/v1/roster/syncs/{response.json()['id']}/").json()
    assert (done["status"], done["applied"], done["dry_run"]) == ("succeeded", False, True)
    assert done["undo"]["reverted"]["updated"] == 1
    assert Staff.objects.get(staff_no=district.a[0].staff_no).name == "改错了"


def test_conflicts_answer_409_masked_and_skip_conflicts_reverts_the_rest(personas, district,
                                                                         django_capture_on_commit_callbacks):
    target = wrong_sync(district)
    Staff.objects.filter(staff_no=district.a[0].staff_no).update(phone="13733334444")
    client = personas["hr"].client()
    response = undo(client, target)
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["conflicts"] == [{"staff_no": district.a[0].staff_no, "field": "phone",
                                  "synced_value": mask_phone("13911112222"),
                                  "current_value": mask_phone("13733334444")}]
    assert "13733334444" not in response.content.decode()
    assert body["sync"]["kind"] == "undo" and body["sync"]["status"] == JobStatus.REFUSED
    assert Staff.objects.get(staff_no=district.a[0].staff_no).name == "改错了"
    with django_capture_on_commit_callbacks(execute=True):
        skipping = undo(client, target, skip_conflicts=True)
    assert skipping.status_code == 202
    done = client.get(f"/api/v1/roster/syncs/{skipping.json()['id']}/").json()
    assert done["applied"] and done["undo"]["skipped"] == 1
    first = Staff.objects.get(staff_no=district.a[0].staff_no)
    assert (first.name, first.phone) == (district.a[0].name, "13733334444")


def test_refusals_and_bad_options(personas, district):
    client = personas["hr"].client()
    dry = roster_sync(sync=roster_sync_create(file=csv_bytes(district.a), file_name="dry.csv", dry_run=True))
    response = undo(client, RosterSync.objects.get(pk=dry.sync_id))
    assert response.status_code == 400 and "试运行" in response.json()["detail"]
    queued = roster_sync_create(file=csv_bytes(district.a), file_name="q.csv")
    assert undo(client, queued).status_code == 409
    assert undo(client, wrong_sync(district), dry_run="yes").status_code == 400
    assert not RosterSync.objects.filter(kind=SyncKind.UNDO, applied=True).exists()
    assert client.post("/api/v1/roster/syncs/999999/undo/", {}, format="json").status_code == 404
