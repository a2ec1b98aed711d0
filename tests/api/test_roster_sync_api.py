"""Roster syncs and import records through the API: 202 at once, the work after commit,
status/progress/counts/errors, upload limits, CSRF for session callers."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from config.jobs import JobStatus
from roster.models import RosterSync, Staff, SyncSource
from sheets.models import ImportKind
from sheets.services import import_record_create
from tests.helpers import Person, csv_bytes, new_id, people

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_celery():
    """Run tasks in-process for this test (the real-worker tests cover the broker path)."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def upload(data: bytes, name: str = "roster.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def post_sync(client, data: bytes, **fields):
    return client.post("/api/v1/roster/syncs/", {"file": upload(data), **fields}, format="multipart")


def test_post_answers_202_with_the_queued_record_before_any_work(personas, units):
    response = post_sync(personas["hr"].client(), csv_bytes(people(3)), mode="partial", skip_invalid="true")
    assert response.status_code == 202, response.content
    body = response.json()
    sync = RosterSync.objects.get(pk=body["id"])
    # the transaction of this test never commits: nothing has been sent to a worker
    assert body["status"] == sync.status == JobStatus.QUEUED
    assert (sync.mode, sync.skip_invalid, sync.dry_run, sync.source) == ("partial", True, False, SyncSource.API)
    assert sync.started_by == personas["hr"].user and sync.source_file
    assert body["progress"] == {"done": 0, "total": 0}
    assert not Staff.objects.exists()


def test_the_sync_runs_once_committed_and_reports_counts(personas, units, eager_celery,
                                                         django_capture_on_commit_callbacks):
    client = personas["hr"].client()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_sync(client, csv_bytes(people(4)))
    assert response.status_code == 202 and len(callbacks) >= 1
    status = client.get(f"/api/v1/roster/syncs/{response.json()['id']}/").json()
    assert status["status"] == "succeeded" and status["applied"]
    assert status["progress"] == {"done": 4, "total": 4}
    assert status["counts"] == {"created": 4, "updated": 0, "unchanged": 0, "deactivated": 0, "reactivated": 0,
                                "rejected": 0}
    assert Staff.objects.count() == 4


def test_sync_errors_name_row_column_value_and_message(personas, units, eager_celery,
                                                      django_capture_on_commit_callbacks):
    bad = Person("0009", "", new_id(), "NOWHERE")
    client = personas["legal_office"].client()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_sync(personas["hr"].client(), csv_bytes(people(2) + [bad]))
    status = client.get(f"/api/v1/roster/syncs/{response.json()['id']}/").json()
    assert status["status"] == "refused" and not status["applied"]
    assert {(e["row"], e["column"], e["message"]) for e in status["errors"]} == {
        (4, "姓名", "姓名为空。"),
        (4, "单位", "未知单位“NOWHERE”：单位代码或名称不存在。"),
    }
    assert status["counts"]["rejected"] == 1


def test_dry_run_changes_nothing(personas, units, eager_celery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_sync(personas["hr"].client(), csv_bytes(people(2)), dry_run="true")
    sync = RosterSync.objects.get(pk=response.json()["id"])
    assert sync.status == JobStatus.SUCCEEDED and not sync.applied and sync.created == 2
    assert not Staff.objects.exists()


def test_upload_over_the_request_limit_is_refused_with_413(personas, units, settings):
    settings.API_UPLOAD_MAX_BYTES = 2048
    response = post_sync(personas["hr"].client(), b"x" * 5000)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not RosterSync.objects.exists()


def test_file_over_the_spreadsheet_limit_is_refused(personas, units, settings):
    settings.SHEETS_MAX_BYTES = 100
    response = post_sync(personas["hr"].client(), b"x" * 500)
    assert response.status_code == 400
    assert "file" in response.json()["errors"]
    assert not RosterSync.objects.exists()


def test_json_body_over_the_limit_is_refused_with_413(personas, units, settings):
    settings.API_JSON_MAX_BYTES = 100
    response = personas["hr"].client().post("/api/v1/staff/", {"name": "x" * 500}, format="json")
    assert response.status_code == 413


@pytest.mark.parametrize("fields, key", [({"mode": "everything"}, "mode"), ({}, "file")])
def test_bad_sync_fields_are_400(fields, key, personas, units):
    data = {"file": upload(b"a,b\n"), **fields} if key != "file" else fields
    response = personas["hr"].client().post("/api/v1/roster/syncs/", data, format="multipart")
    assert response.status_code == 400 and key in response.json()["errors"]


def test_sync_upload_as_json_is_415(personas, units):
    response = personas["hr"].client().post("/api/v1/roster/syncs/", {"file": "x"}, format="json")
    assert response.status_code == 415


def test_session_callers_need_the_csrf_token(personas, units):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["hr"].user)
    refused = client.post("/api/v1/roster/syncs/", {"file": upload(csv_bytes(people(1)))})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    client.get("/admin/login/")  # any page that sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post("/api/v1/roster/syncs/", {"file": upload(csv_bytes(people(1)))}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 202


def test_token_callers_need_no_csrf_token(personas, units):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {personas['hr'].token}")
    assert post_sync(client, csv_bytes(people(1))).status_code == 202


def test_import_record_shows_status_progress_counts_and_problems(personas, units):
    from config.errors import Problem
    from sheets.services import import_record_finish

    record = import_record_create(kind=ImportKind.EXAM_RESULTS, file=b"x", file_name="results.xlsx", target_id=7)
    import_record_finish(record=record, status=JobStatus.SUCCEEDED, applied=True, counts={"applied": 5, "unmatched": 1},
                         problems=[Problem(3, "工号", "X1", "工号不存在。", "unmatched")])
    body = personas["legal_office"].client().get(f"/api/v1/imports/{record.pk}/").json()
    assert body["status"] == "succeeded" and body["kind"] == "exam_results" and body["target_id"] == 7
    assert body["counts"] == {"applied": 5, "unmatched": 1}
    assert body["problems"] == [{"row": 3, "column": "工号", "value": "X1", "message": "工号不存在。", "kind": "unmatched"}]
    assert set(body["progress"]) == {"done", "total"}


def test_unknown_record_ids_are_404_in_json(personas, units):
    client = personas["hr"].client()
    for path in ("/api/v1/roster/syncs/999999/", "/api/v1/roster/syncs/abc/", "/api/v1/imports/0/",
                 "/api/v1/staff//", "/api/v1/nowhere/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
