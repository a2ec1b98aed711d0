"""Every page: never cached (it may carry personal data), the API's Content-Security-Policy
(no inline script), every POST form with its CSRF token, scripts and styles from local files."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from reports.snapshots import snapshots_refresh
from tests.helpers import csv_bytes
from training.attendance import attendance_import
from training.events import training_event_create
from training.models import TrainingKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(personas, district, exam):
    snapshots_refresh(everything=True)
    event = training_event_create(title="讲座", kind=TrainingKind.LECTURE, date=timezone.localdate(), hours="2")
    result = attendance_import(event=event, file_name="s.csv",
                               data=csv_bytes([[district.a[0].name, district.a[0].staff_no]], header=["姓名", "工号"]))
    return {
        "hr": ["/roster/"],
        "legal_office": [
            "/exams/", "/exams/new/", f"/exams/{exam.pk}/", f"/exams/{exam.pk}/not-sat/D/",
            f"/exams/{exam.pk}/not-sat/D/xlsx/", "/events/", "/events/new/", f"/events/{event.pk}/",
            f"/events/{event.pk}/qr/", f"/imports/{result.import_id}/", f"/imports/{result.import_id}/progress/",
            "/units/D/", "/reports/annual/",
        ],
        "liaison_a": ["/units/A/", f"/exams/{exam.pk}/not-sat/A/", "/exams/", "/events/"],
        "viewer": ["/units/D/", "/reports/annual/", "/exams/"],
    }


def test_every_page_is_never_cached_and_carries_the_security_policy(personas, pages):
    for persona, paths in pages.items():
        client = personas[persona].client()
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (persona, path)
            assert response["Cache-Control"] == "no-store", (persona, path)
            assert "script-src 'self'" in response["Content-Security-Policy"], (persona, path)


def test_every_post_form_carries_its_csrf_token_and_no_script_is_inline(personas, pages):
    for persona, paths in pages.items():
        client = personas[persona].client()
        for path in paths:
            response = client.get(path)
            if not response["Content-Type"].startswith("text/html"):
                continue
            body = response.content.decode()
            for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", body, flags=re.S):
                assert 'name="csrfmiddlewaretoken"' in form, (persona, path)
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), (persona, path)
            assert "http://" not in re.sub(r'http://testserver/signin/[^"<\s]+', "", body), (persona, path)
            assert "https://" not in body, (persona, path)
