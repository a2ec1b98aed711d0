"""A reveal reason, or any free text bound for the audit table, that holds a run shaped like an
ID number (15 or 18 characters) is refused with 400 「原因中不能包含身份证号」 and nothing is
stored: not the audit record, not the reveal."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from audit.models import AuditAction, AuditEvent
from audit.services import ID_NUMBER_IN_REASON, audit_record
from config.errors import DomainError

pytestmark = pytest.mark.django_db


def reveal(personas, staff_no: str, reason: str):
    return personas["hr"].client().get(f"/api/v1/staff/{staff_no}/?reveal=id_number&reason={quote(reason)}")


@pytest.mark.parametrize("shape", ["18", "18x", "15", "fullwidth"])
def test_a_reveal_reason_holding_an_id_number_is_refused_and_nothing_is_stored(personas, district, shape):
    person = district.a[0]
    number = {
        "18": person.id_number,
        "18x": person.id_number[:17] + "X",
        "15": person.id_number[:6] + person.id_number[8:17],
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in person.id_number),
    }[shape]
    response = reveal(personas, person.staff_no, f"核对{number}的社保")
    assert response.status_code == 400
    assert response.json()["detail"] == ID_NUMBER_IN_REASON
    assert person.id_number not in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_a_reason_with_short_numbers_is_accepted(personas, district):
    person = district.a[0]
    response = reveal(personas, person.staff_no, "核对2024年第12345号社保单")
    assert response.status_code == 200
    assert AuditEvent.objects.get().reason == "核对2024年第12345号社保单"


def test_the_audit_writer_itself_refuses_an_id_number_or_a_control_character(db):
    with pytest.raises(DomainError) as caught:
        audit_record(user=None, username="system", action=AuditAction.EXPORT, target="x",
                     reason="导出 110101199003074514")
    assert caught.value.message == ID_NUMBER_IN_REASON
    with pytest.raises(DomainError):
        audit_record(user=None, username="system", action=AuditAction.EXPORT, target="x", reason="导出\u0007")
    assert not AuditEvent.objects.exists()
    # a line break is fine in a reason
    audit_record(user=None, username="system", action=AuditAction.EXPORT, target="x", reason="第一行\n第二行")
    assert AuditEvent.objects.count() == 1
