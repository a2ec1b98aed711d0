"""HR's roster upload: dry run with preview and errors by row number, confirm, progress,
past syncs."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from config.jobs import JobStatus
from roster.models import RosterSync, Staff, SyncSource
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import csv_bytes, people, xlsx_bytes

pytestmark = pytest.mark.django_db

BAD_ROW = ["0099", "坏行", "11010519491231002X", "NOPE", "科员", "否", "", ""]


@pytest.fixture
def upload(committed):
    """Post a roster file to the upload form; the dry run's task runs after the commit."""

    def post(client, data: bytes, name: str = "名册.csv", **fields):
        form = {"mode": "full", "on_error": "strict", **fields, "file": SimpleUploadedFile(name, data)}
        with committed():
            return client.post("/roster/", form)

    return post


@pytest.fixture
def confirm(committed):
    def post(client, pk: int, **kwargs):
        with committed():
            return client.post(f"/roster/syncs/{pk}/confirm/", **kwargs)

    return post


def sync_id(response) -> int:
    return int(re.search(r"/roster/syncs/(\d+)/", response["Location"]).group(1))


def test_a_file_with_a_bad_row_is_refused_with_the_row_number_and_nothing_to_confirm(personas, upload):
    client = personas["hr"].client()
    response = upload(client, csv_bytes([*people(3), BAD_ROW]))
    assert response.status_code == 302
    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    sync = RosterSync.objects.get(pk=sync_id(response))
    assert sync.dry_run and sync.source == SyncSource.WEB and sync.status == JobStatus.REFUSED
    assert "同步被拒绝" in body
    problems = page.context["sync"].errors
    assert problems and all(p["row"] == 5 for p in problems)
    assert re.search(r'<td class="num" data-sort="5">5</td>', body)
    assert "confirm-button" not in body and "重新上传" in body
    assert not Staff.objects.exists()


def test_a_good_file_is_previewed_then_confirmed_and_its_progress_reaches_the_end(personas, upload, confirm):
    client = personas["hr"].client()
    staff = people(4)
    response = upload(client, xlsx_bytes(staff), name="名册.xlsx")
    dry = client.get(response["Location"])
    body = dry.content.decode()
    assert "试运行通过" in body and "confirm-button" in body
    assert all(p.staff_no in body for p in staff)  # the first rows of each kind of change
    assert 'aria-valuenow="100"' in body
    assert not Staff.objects.exists()

    confirmed = confirm(client, sync_id(response))
    assert confirmed.status_code == 302
    real = RosterSync.objects.get(pk=sync_id(confirmed))
    assert not real.dry_run and real.applied and real.created == 4
    page = client.get(confirmed["Location"]).content.decode()
    assert "同步完成" in page and 'aria-valuenow="100"' in page
    progress = client.get(f"/roster/syncs/{real.pk}/progress/").json()
    assert progress == {"status": "succeeded", "status_label": "已完成", "done": 4, "total": 4, "percent": 100,
                        "finished": True}
    assert Staff.objects.count() == 4


def test_a_file_identical_to_the_roster_offers_no_confirm(personas, upload, confirm):
    staff = people(4)
    assert roster_sync(sync=roster_sync_create(file=csv_bytes(staff), file_name="上月.csv")).applied
    client = personas["hr"].client()
    response = upload(client, csv_bytes(staff))
    body = client.get(response["Location"]).content.decode()
    assert "confirm-button" not in body and "没有需要同步的变化" in body
    refused = confirm(client, sync_id(response), follow=True)
    assert "没有需要同步的变化" in refused.content.decode()
    assert not RosterSync.objects.filter(dry_run=False, pk__gt=sync_id(response)).exists()


def test_a_numeric_staff_no_column_shows_the_leading_zeros_hint_on_the_dry_run_page(personas, upload):
    rows = [[int(p.staff_no), *p.row()[1:]] for p in people(3)]  # 0001 typed into number cells
    client = personas["hr"].client()
    body = client.get(upload(client, xlsx_bytes(rows), name="名册.xlsx")["Location"]).content.decode()
    assert "开头的 0" in body and "文本" in body


def test_confirming_twice_applies_once_and_says_why(personas, upload, confirm):
    client = personas["hr"].client()
    response = upload(client, csv_bytes(people(2)))
    confirm(client, sync_id(response))
    again = confirm(client, sync_id(response), follow=True)
    assert "已确认过" in again.content.decode()
    assert RosterSync.objects.filter(dry_run=False).count() == 1


def test_skip_invalid_dry_run_lists_the_bad_rows_and_confirming_skips_them(personas, upload, confirm):
    client = personas["hr"].client()
    response = upload(client, csv_bytes([*people(2), BAD_ROW]), on_error="skip")
    body = client.get(response["Location"]).content.decode()
    assert "confirm-button" in body and "错误（" in body
    real = RosterSync.objects.get(pk=sync_id(confirm(client, sync_id(response))))
    assert real.applied and real.created == 2 and real.rejected == 1


def test_a_progress_bar_is_polled_while_the_sync_has_not_finished(personas, units):
    queued = roster_sync_create(file=csv_bytes(people(1)), file_name="q.csv", source=SyncSource.WEB, dry_run=True)
    client = personas["hr"].client()
    body = client.get(f"/roster/syncs/{queued.pk}/").content.decode()
    assert f'data-progress-url="/roster/syncs/{queued.pk}/progress/"' in body
    assert client.get(f"/roster/syncs/{queued.pk}/progress/").json()["finished"] is False
    roster_sync(sync=queued)
    assert client.get(f"/roster/syncs/{queued.pk}/progress/").json()["percent"] == 100


def test_the_upload_form_needs_a_file(personas):
    response = personas["hr"].client().post("/roster/", {"mode": "full", "on_error": "strict"})
    assert response.status_code == 200 and "该字段是必填项" in response.content.decode()
    assert not RosterSync.objects.exists()


@pytest.mark.parametrize("persona", ["legal_office", "liaison_a", "viewer"])
def test_only_hr_uploads_rosters(personas, persona, upload):
    client = personas[persona].client()
    assert client.get("/roster/").status_code == 403
    assert upload(client, csv_bytes(people(1))).status_code == 403
    assert not RosterSync.objects.exists()


def test_a_liaison_cannot_see_a_sync_nor_confirm_it(personas, upload):
    response = upload(personas["hr"].client(), csv_bytes(people(1)))
    liaison = personas["liaison_a"].client()
    assert liaison.get(response["Location"]).status_code == 403
    assert liaison.post(f"/roster/syncs/{sync_id(response)}/confirm/").status_code == 403


def test_confirm_needs_the_csrf_token(personas, upload):
    response = upload(personas["hr"].client(), csv_bytes(people(1)))
    strict = personas["hr"].client(enforce_csrf_checks=True)
    assert strict.post(f"/roster/syncs/{sync_id(response)}/confirm/").status_code == 403
    assert not RosterSync.objects.filter(dry_run=False).exists()


def test_past_syncs_are_listed_with_their_outcome_at_a_fixed_number_of_queries(
    personas, units, django_assert_max_num_queries
):
    client = personas["hr"].client()
    for i in range(3):
        roster_sync(sync=roster_sync_create(file=csv_bytes(people(1, start=i + 1)), file_name=f"r{i}.csv",
                                            mode="partial", started_by=personas["hr"].user))
    with django_assert_max_num_queries(6):
        few = client.get("/roster/")
    for i in range(20):
        roster_sync_create(file=csv_bytes(people(1)), file_name=f"more{i}.csv", started_by=personas["hr"].user)
    with django_assert_max_num_queries(6):
        many = client.get("/roster/")
    assert "r0.csv" in few.content.decode() and "已完成" in few.content.decode()
    assert many.content.decode().count("/roster/syncs/") >= 20
    assert many["Cache-Control"] == "no-store"


def test_the_full_diff_pages_through_every_change_filters_and_downloads(personas, upload):
    import io

    from openpyxl import load_workbook

    from audit.models import AuditEvent

    staff = people(150) + people(5, "B", start=500)
    roster_sync(sync=roster_sync_create(file=csv_bytes(staff), file_name="first.csv"))
    edited = staff[:140] + staff[150:]  # ten leave
    edited[0].name = "=HYPERLINK(\"http://x\",\"点击\")"
    edited[1].position = "科长"
    client = personas["hr"].client()
    response = upload(client, csv_bytes(edited), allow_mass_deactivation="on")
    pk = sync_id(response)
    assert 'id="all-changes"' in client.get(response["Location"]).content.decode()

    page = client.get(f"/roster/syncs/{pk}/changes/")
    assert page.status_code == 200 and page.context["changes"].paginator.count == 12
    body = page.content.decode()
    assert "职务：科员 → 科长" in body
    gone = client.get(f"/roster/syncs/{pk}/changes/?kind=deactivated")
    assert {r["change"].staff_no for r in gone.context["rows"]} == {p.staff_no for p in staff[140:150]}
    in_b = client.get(f"/roster/syncs/{pk}/changes/?unit=B")
    assert in_b.context["changes"].paginator.count == 0
    assert client.get(f"/roster/syncs/{pk}/changes/?kind=nonsense").context["changes"].paginator.count == 12

    download = client.get(f"/roster/syncs/{pk}/changes.xlsx?kind=updated")
    sheet = load_workbook(io.BytesIO(download.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [v[2] for v in values] == ["0001", "0002"]
    name_cell = sheet.cell(row=3, column=9)
    assert name_cell.value.startswith("=HYPERLINK") and name_cell.data_type == "s"
    event = AuditEvent.objects.get(target=f"roster_sync:{pk}:changes")
    assert event.rows == 2 and event.user.username == "hr"


def test_a_liaison_cannot_read_a_syncs_changes(personas, upload):
    client = personas["hr"].client()
    pk = sync_id(upload(client, csv_bytes(people(3))))
    other = personas["liaison_a"].client()
    assert other.get(f"/roster/syncs/{pk}/changes/").status_code in (403, 404)
    assert other.get(f"/roster/syncs/{pk}/changes.xlsx").status_code in (403, 404)
