"""「执法证管理」: counts, the due/expired/left lists and their downloads, the import (preview,
then confirm), and the renewal from the exam page with its preview."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import AuditEvent
from certificates.models import Certificate, CertificateRenewal
from exams.creation import exam_create
from exams.models import ExamKind
from roster.models import Staff
from tests.exams.conftest import import_results, result_row, results_file
from tests.helpers import csv_bytes

HEADER = ["姓名", "工号", "证件号", "发证日期", "有效期至"]


def _cert(staff_no: str, number: str, expires: dt.date) -> Certificate:
    return Certificate.objects.create(number=number, staff=Staff.objects.get(staff_no=staff_no),
                                      issued_on=dt.date(2020, 1, 1), expires_on=expires)


def test_the_page_shows_counts_and_lists_and_a_liaison_sees_their_subtree(personas, district):
    today = timezone.localdate()
    _cert("0001", "桂执A1", today + dt.timedelta(days=10))   # A: due
    _cert("0101", "桂执B1", today - dt.timedelta(days=1))    # B: expired
    page = personas["legal_office"].client().get("/certificates/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "执法证管理" in text and "桂执A1" in text and "桂执B1" in text and 'id="upload-certificates"' in text
    liaison = personas["liaison_a"].client().get("/certificates/").content.decode()
    assert "桂执A1" in liaison and "桂执B1" not in liaison and 'id="upload-certificates"' not in liaison
    for role in ("hr", "viewer"):
        assert personas[role].client().get("/certificates/").status_code == 403


def test_downloads_are_audited_and_formula_safe(personas, district):
    today = timezone.localdate()
    _cert("0001", "=cmd|x", today + dt.timedelta(days=10))
    client = personas["legal_office"].client()
    response = client.get("/certificates/due.xlsx")
    assert response.status_code == 200
    import io

    cell = load_workbook(io.BytesIO(response.content)).active["A2"]
    assert cell.value == "=cmd|x" and cell.data_type == "s"
    csv_text = client.get("/certificates/due.csv").content.decode("utf-8-sig")
    assert "'=cmd|x" in csv_text
    assert AuditEvent.objects.filter(target="certificates:due").count() == 2
    assert client.get("/certificates/valid.pdf").status_code == 404


def test_import_preview_then_confirm(personas, district):
    person = district.a[0]
    data = csv_bytes([[person.name, person.staff_no, "桂执新1", "2024-01-01", "2030-01-01"]], header=HEADER)
    client = personas["legal_office"].client()
    response = client.post("/certificates/import/", {"certs-file": SimpleUploadedFile("c.csv", data)})
    assert response.status_code == 302
    preview = client.get(response["Location"])
    assert 'id="confirm-button"' in preview.content.decode()
    assert not Certificate.objects.exists()
    confirmed = client.post(response["Location"] + "confirm/")
    assert confirmed.status_code == 302
    assert Certificate.objects.get().number == "桂执新1"
    # a dry run is confirmed once
    assert client.post(response["Location"] + "confirm/").status_code == 302
    assert Certificate.objects.count() == 1


def test_renewal_from_the_exam_page_previews_then_renews(personas, district):
    today = timezone.localdate()
    exam = exam_create(name="执法续职考试", year=today.year, kind=ExamKind.ENFORCEMENT_RENEWAL,
                       opens_on=today - dt.timedelta(days=10), closes_on=today - dt.timedelta(days=1))
    _cert("0001", "桂执A1", today)
    import_results(exam, results_file([result_row(district.a[0], 90)]))
    client = personas["legal_office"].client()
    assert 'id="exam-renew"' in client.get(f"/exams/{exam.pk}/").content.decode()
    preview = client.get(f"/exams/{exam.pk}/renew-certificates/")
    assert preview.status_code == 200 and "桂执A1" in preview.content.decode()
    assert not CertificateRenewal.objects.exists()
    done = client.post(f"/exams/{exam.pk}/renew-certificates/")
    assert done.status_code == 200 and CertificateRenewal.objects.count() == 1
    assert personas["liaison_a"].client().get(f"/exams/{exam.pk}/renew-certificates/").status_code == 403
