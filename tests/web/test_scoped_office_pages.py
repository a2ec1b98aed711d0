"""Scoped offices on the pages (issue 18): a town's HR and legal-affairs office (unit T, whose
subtree holds T1's three people) work through the same Scope as the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from exams.models import Candidate, Exam
from roster.models import RosterSync, Staff
from tests.helpers import Person, csv_bytes
from tests.web.conftest import make_persona
from tests.web.test_roster_pages import sync_id

pytestmark = pytest.mark.django_db


def _upload(client, committed, data: bytes, mode: str = "full"):
    form = {"mode": mode, "on_error": "strict", "file": SimpleUploadedFile("名册.csv", data)}
    with committed():
        return client.post("/roster/", form)


def test_a_town_hr_sync_from_the_page_refuses_other_units_and_confirms_within_the_town(units, district, committed):
    client = make_persona("town_hr", "hr", "T").client()
    refused = _upload(client, committed, csv_bytes([*district.t1, district.a[0]]), mode="partial")
    sync = RosterSync.objects.get(pk=sync_id(refused))
    assert sync.root.code == "T" and sync.status == "refused"
    page = client.get(refused["Location"]).content.decode()
    assert "不在您负责的范围" in page and "confirm-button" not in page

    # the town's own people, full: nobody of A or B is deactivated; the confirmed sync keeps the root
    changed = [Person(p.staff_no, p.name, p.id_number, p.unit, position="副科长", phone=p.phone) for p in district.t1]
    good = _upload(client, committed, csv_bytes(changed))
    dry = RosterSync.objects.get(pk=sync_id(good))
    assert (dry.status, dry.updated, dry.deactivated) == ("succeeded", 3, 0), dry.errors
    with committed():
        confirmed = client.post(f"/roster/syncs/{dry.pk}/confirm/")
    applied = RosterSync.objects.get(pk=sync_id(confirmed))
    assert applied.applied and applied.root.code == "T", applied.message
    assert Staff.objects.filter(is_active=True).count() == len(district.everybody)
    # the district's HR syncs are not the town's to read
    whole = RosterSync.objects.create(file_name="all.csv", sha256="x" * 64)
    assert client.get(f"/roster/syncs/{whole.pk}/").status_code == 404


def test_a_town_legal_office_creates_an_exam_for_the_town_only(units, district):
    client = make_persona("town_legal", "legal_office", "T").client()
    response = client.post("/exams/new/", {
        "name": "镇学法考试", "year": 2026, "kind": "annual_law", "audience": "", "pass_mark": "60",
        "max_score": "100", "opens_on": "2026-03-01", "closes_on": "2026-12-31",
    })
    exam = Exam.objects.get(name="镇学法考试")
    assert response.status_code == 302 and exam.owner.code == "T"
    assert set(Candidate.objects.filter(exam=exam).values_list("staff__staff_no", flat=True)) == {
        p.staff_no for p in district.t1}
    assert client.get(f"/exams/{exam.pk}/").status_code == 200
    assert make_persona("a_legal", "legal_office", "A").client().get(f"/exams/{exam.pk}/").status_code == 404
