"""The certificates API beyond the permission matrix: filters, a bad date, the import's
answer, the renewal of an exam of another kind, and a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from certificates.models import Certificate
from exams.creation import exam_create
from roster.models import Staff
from tests.helpers import csv_bytes

pytestmark = pytest.mark.django_db


def _register(district, n: int, start: int = 0) -> None:
    people = (district.a + district.b + district.t1)[start:n]
    for i, person in enumerate(people, start=start):
        Certificate.objects.create(number=f"证{person.staff_no}", staff=Staff.objects.get(staff_no=person.staff_no),
                                   issued_on=dt.date(2020, 1, 1), expires_on=dt.date(2026, 6, 1) + dt.timedelta(days=i))


def test_the_list_filters_and_keeps_its_query_count(personas, district, django_assert_max_num_queries):
    client = personas["legal_office"].client()
    _register(district, 3)
    with django_assert_max_num_queries(12):
        few = client.get("/api/v1/certificates/?on=2026-06-01")
    _register(district, 13, start=3)
    with django_assert_max_num_queries(12):
        many = client.get("/api/v1/certificates/?on=2026-06-01")
    assert few.status_code == many.status_code == 200 and many.json()["count"] == 13
    expired = client.get("/api/v1/certificates/?on=2026-06-03&state=expired").json()
    assert [c["days_left"] for c in expired["results"]] == [-2, -1]
    assert client.get("/api/v1/certificates/?on=2026-13-01").status_code == 400
    assert client.get("/api/v1/certificates/?state=lost").status_code == 400
    liaison = personas["liaison_b"].client().get("/api/v1/certificates/stats/?on=2026-06-01").json()
    assert liaison["holders"] == len(district.b) and [r["unit_code"] for r in liaison["by_unit"]] == ["B"]


def test_the_import_answers_with_its_record(personas, district):
    person = district.a[0]
    data = csv_bytes([[person.name, person.staff_no, "证X", "2024-01-01", "2023-01-01"]],
                     header=["姓名", "工号", "证件号", "发证日期", "有效期至"])
    response = personas["legal_office"].client().post(
        "/api/v1/certificates/imports/", {"file": SimpleUploadedFile("c.csv", data)}, format="multipart")
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "certificates" and body["status"] == "refused" and body["counts"]["invalid"] == 1
    assert body["problems"][0]["column"] == "有效期至"


def test_renewing_by_an_exam_of_another_kind_is_a_400(personas, district):
    exam = exam_create(name="学法用法考试", year=2026, kind="annual_law")
    response = personas["legal_office"].client().post(f"/api/v1/exams/{exam.pk}/renew-certificates/", {}, format="json")
    assert response.status_code == 400 and "执法续职考试" in response.json()["detail"]
    assert personas["legal_office"].client().post("/api/v1/exams/99999/renew-certificates/", {}).status_code == 404
