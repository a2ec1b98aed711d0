from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from certificates.imports import CertificateImportResult, certificate_import_create, certificate_import_run
from certificates.models import Certificate, CertificateKind, CertificateStatus
from roster.models import Staff
from tests.exams.conftest import district, sync
from tests.helpers import Person, csv_bytes, xlsx_bytes

CERT_HEADER = ["姓名", "身份证号", "工号", "证件号", "证件类型", "发证日期", "有效期至", "状态", "发证机关"]
D0 = dt.date(2026, 6, 1)


@pytest.fixture
def staff(units) -> dict[str, Person]:
    people = district()
    sync(people)
    return {p.staff_no: p for p in people}


def cert_row(person: Person, number: str, *, issued: str = "2024-01-01", expires: str = "2027-01-01",
             kind: str = "执法证", status: str = "有效", authority: str = "测试区人民政府", by: str = "id_number",
             name: str | None = None) -> list[Any]:
    return [
        person.name if name is None else name,
        person.id_number if by == "id_number" else "",
        person.staff_no if by == "staff_no" else "",
        number, kind, issued, expires, status, authority,
    ]


def cert_file(rows: Sequence[Sequence[Any]], *, header: Sequence[str] = CERT_HEADER, xlsx: bool = False) -> bytes:
    return xlsx_bytes(rows, header=header) if xlsx else csv_bytes(rows, header=header)


def import_certs(rows: Sequence[Sequence[Any]], *, strict: bool = False, dry_run: bool = False,
                 **options: Any) -> CertificateImportResult:
    record = certificate_import_create(file=cert_file(rows, **options), file_name="certs.csv", strict=strict,
                                       dry_run=dry_run)
    return certificate_import_run(record=record)


def write(tmp_path: Path, rows: Sequence[Sequence[Any]], name: str = "certs.csv", **options: Any) -> Path:
    path = tmp_path / name
    path.write_bytes(cert_file(rows, xlsx=name.endswith(".xlsx"), **options))
    return path


def add_cert(staff_no: str, number: str, *, expires: dt.date, issued: dt.date | None = None,
             kind: str = CertificateKind.ENFORCEMENT, status: str = CertificateStatus.ACTIVE) -> Certificate:
    return Certificate.objects.create(
        number=number, kind=kind, staff=Staff.objects.get(staff_no=staff_no), expires_on=expires,
        issued_on=issued or min(expires, dt.date(2020, 1, 1)), status=status,
    )
