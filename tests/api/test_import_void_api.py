"""POST /api/v1/imports/{id}/void/: a preview (dry_run), the void itself, a second void (409),
the roles (legal_office only), and the Chinese errors."""

from __future__ import annotations

import pytest

from audit.models import AuditAction, AuditEvent
from exams.models import Attempt
from exams.selectors import exam_stats
from sheets.models import ImportKind, ImportRecord

pytestmark = pytest.mark.django_db


def results_import(activity) -> ImportRecord:
    return ImportRecord.objects.filter(kind=ImportKind.EXAM_RESULTS, target_id=activity.exam.pk).get()


def test_legal_office_previews_then_voids_a_results_import(personas, activity):
    record = results_import(activity)
    client = personas["legal_office"].client()
    url = f"/api/v1/imports/{record.pk}/void/"
    preview = client.post(url, {"dry_run": True}, format="json")
    assert preview.status_code == 200, preview.content
    assert preview.json() == {"import_id": record.pk, "dry_run": True,
                              "removed": {"attempts": 4, "exemptions": 0, "attendances": 0}, "kept": 0}
    assert Attempt.objects.count() == 4
    done = client.post(url, {"reason": "成绩文件有误"}, format="json")
    assert done.status_code == 200 and done.json()["dry_run"] is False
    assert Attempt.objects.count() == 0 and exam_stats(exam=activity.exam)["sat"] == 0
    audit = AuditEvent.objects.get(action=AuditAction.VOID_IMPORT)
    assert audit.user == personas["legal_office"].user and "成绩文件有误" in audit.reason
    body = client.get(f"/api/v1/imports/{record.pk}/").json()
    assert body["voided_at"] and body["void_reason"] == "成绩文件有误"
    again = client.post(url, {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "conflict" and "不能再次撤销" in again.json()["detail"]


@pytest.mark.parametrize("role", ["hr", "liaison_a", "viewer"])
def test_other_roles_may_not_void(personas, activity, role):
    record = results_import(activity)
    response = personas[role].client().post(f"/api/v1/imports/{record.pk}/void/", {}, format="json")
    assert response.status_code == 403
    assert Attempt.objects.count() == 4


def test_unknown_and_unvoidable_imports_answer_in_chinese(personas, activity):
    client = personas["legal_office"].client()
    assert client.post("/api/v1/imports/999999/void/", {}, format="json").status_code == 404
    dry = ImportRecord.objects.create(kind=ImportKind.EXAM_RESULTS, target_id=activity.exam.pk, file_name="d.csv",
                                      sha256="0" * 64, status="succeeded", options={"dry_run": True})
    response = client.post(f"/api/v1/imports/{dry.pk}/void/", {}, format="json")
    assert response.status_code == 400 and "试运行" in response.json()["detail"]
