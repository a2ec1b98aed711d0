"""The renewal exam's audience: the people holding a ``valid`` or ``due`` enforcement
certificate in the register on the exam's opening date. While the register is empty, the
roster's 执法证号 column decides (exams' own rule)."""

from __future__ import annotations

from exams.enrolment import register_enforcement_audience
from exams.models import ExamKind

from .models import Certificate, CertificateKind, CertificateStatus

CERTIFICATE = Certificate._meta.db_table


def renewal_audience_sql() -> str:
    # valid or due on the opening date = active and not expired on it (state.py's rule)
    return (
        f"CASE WHEN EXISTS (SELECT 1 FROM {CERTIFICATE}) THEN EXISTS ("
        f"SELECT 1 FROM {CERTIFICATE} cert WHERE cert.staff_id = s.id"
        f" AND cert.kind = '{CertificateKind.ENFORCEMENT.value}'"
        f" AND cert.status = '{CertificateStatus.ACTIVE.value}' AND cert.expires_on >= e.opens_on)"
        " ELSE s.enforcement_cert <> '' END"
    )


def register_renewal_audience() -> None:
    register_enforcement_audience(kind=ExamKind.ENFORCEMENT_RENEWAL.value, rule=renewal_audience_sql)
