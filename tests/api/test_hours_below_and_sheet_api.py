"""``GET /api/v1/training/hours-below/`` with targets per 人员类别, and the sign-in sheet's
QR code by rotation; kinds as data through the API."""

from __future__ import annotations

import io

import pytest
from docx import Document

from audit.models import AuditEvent
from roster.models import Staff
from training.models import EventKind, TrainingEvent
from training.signin_sheet import ROTATING_NOTE
from training.targets import training_target_set

pytestmark = pytest.mark.django_db


def staff_nos(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {r["staff_no"] for r in response.json()["results"]}


def test_targets_per_category_decide_who_is_listed(personas, activity, district):
    a = district.a
    Staff.objects.filter(staff_no__in=[a[0].staff_no, a[1].staff_no]).update(category="工勤")
    training_target_set(year=activity.year, category="工勤", hours="2")
    client = personas["legal_office"].client()
    path = f"/api/v1/training/hours-below/?year={activity.year}&unit=A"
    # a[0] and a[1] attended the 2-hour lecture: they meet their 2 hours; the others need 40
    assert staff_nos(client.get(path)) == {p.staff_no for p in a[2:]}
    rows = {r["staff_no"]: r for r in client.get(path + "&page_size=2").json()["results"]}
    assert len(rows) == 2 and all(r["required_hours"] == 40 for r in rows.values())
    training_target_set(year=activity.year, category=None, hours="0")
    assert staff_nos(client.get(path)) == set()
    assert not AuditEvent.objects.exists()  # a JSON page is not a file


def test_bad_queries_are_refused_in_chinese(personas, activity):
    client = personas["legal_office"].client()
    bad = client.get("/api/v1/training/hours-below/?format=pdf")
    assert bad.status_code == 400 and "format" in bad.json()["errors"]
    assert client.get("/api/v1/training/hours-below/?year=1800").status_code == 400
    assert client.get("/api/v1/training/hours-below/?unit=NOPE").status_code == 404


def _sheet(response) -> Document:
    assert response.status_code == 200, response.content
    return Document(io.BytesIO(response.content))


def test_the_sheet_prints_the_qr_code_only_for_a_fixed_link(personas, activity, district):
    event = activity.events["a"]
    client = personas["liaison_a"].client()
    rotating = _sheet(client.get(f"/api/v1/events/{event.pk}/signin-sheet.docx"))
    assert len(rotating.inline_shapes) == 0 and ROTATING_NOTE in [p.text for p in rotating.paragraphs]
    # the liaison's own subtree only, without ?unit=
    assert {r.cells[1].text for r in rotating.tables[0].rows[1:]} == {p.staff_no for p in district.a}
    TrainingEvent.objects.filter(pk=event.pk).update(signin_rotates=False)
    fixed = _sheet(client.get(f"/api/v1/events/{event.pk}/signin-sheet.docx?unit=A"))
    assert len(fixed.inline_shapes) == 1
    assert AuditEvent.objects.filter(target__startswith=f"event:{event.pk}:signin_sheet").count() == 2


def test_a_kind_added_as_data_is_accepted_by_the_api(personas, activity):
    client = personas["legal_office"].client()
    body = {"title": "法律知识竞赛", "kind": "law_quiz", "date": f"{activity.year}-06-01", "hours": "2"}
    refused = client.post("/api/v1/events/", body, content_type="application/json")
    assert refused.status_code == 400 and "kind" in refused.json()["errors"]
    EventKind.objects.create(code="law_quiz", name="法律知识竞赛")
    created = client.post("/api/v1/events/", body, content_type="application/json")
    assert created.status_code == 201 and created.json()["kind"] == "law_quiz"
    listed = client.get(f"/api/v1/events/?kind=law_quiz&year={activity.year}")
    assert [e["title"] for e in listed.json()["results"]] == ["法律知识竞赛"]
    # a code no event has (the table may gain one at any time) matches nothing, like any filter
    nonsense = client.get("/api/v1/events/?kind=nonsense")
    assert nonsense.status_code == 200 and nonsense.json()["results"] == []
    seeded = client.post("/api/v1/events/", {**body, "title": "述法会", "kind": "leader_law_report"},
                         content_type="application/json")
    assert seeded.status_code == 201
