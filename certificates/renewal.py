"""Renewal through the renewal exam: every candidate who passed has each of their enforcement
certificates that is ``due`` or ``expired`` on the exam's closing date renewed. The new expiry
is the later of the old expiry and the closing date, plus ``CERT_RENEWAL_YEARS`` years. One
renewal row per (certificate, exam): a second run changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from config.errors import DomainError
from exams.models import Candidate, Exam, ExamKind

from .bulk import rows_insert
from .models import Certificate, CertificateChange, CertificateChangeKind, CertificateKind, CertificateRenewal
from .state import DUE, EXPIRED, certificate_state

RENEWAL_COLUMNS = ("certificate_id", "exam_id", "old_expires_on", "new_expires_on", "renewed_at", "renewed_by_id")
CERT = Certificate._meta.db_table
RENEWAL = CertificateRenewal._meta.db_table
CHANGE = CertificateChange._meta.db_table


@dataclass
class RenewalResult:
    exam_id: int
    dry_run: bool = False
    renewed: int = 0
    already_renewed: int = 0
    not_due: int = 0
    certificates: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "exam_id": self.exam_id, "dry_run": self.dry_run, "renewed": self.renewed,
            "already_renewed": self.already_renewed, "not_due": self.not_due, "certificates": self.certificates,
        }

    @property
    def message(self) -> str:
        head = "试运行（未作任何改动）：" if self.dry_run else ""
        return (f"{head}续期 {self.renewed} 张执法证，此前已由本次考试续期 {self.already_renewed} 张，"
                f"未到续期时间或不可续期 {self.not_due} 张。")


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


def renewed_expiry(*, old: dt.date, closes_on: dt.date, years: int | None = None) -> dt.date:
    return add_years(max(old, closes_on), int(settings.CERT_RENEWAL_YEARS if years is None else years))


def _apply_renewals(*, exam: Exam, at: dt.datetime) -> None:
    """Set-based: the new expiries onto the certificates, and one history row each, from the
    renewal rows this run wrote (this exam's, stamped ``at``)."""
    ops = connection.ops
    params = [exam.pk, ops.adapt_datetimefield_value(at)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {CERT} SET expires_on = r.new_expires_on, updated_at = r.renewed_at
                  FROM {RENEWAL} r WHERE r.certificate_id = {CERT}.id AND r.exam_id = %s AND r.renewed_at = %s""",
            params,
        )
        cursor.execute(
            f"""INSERT INTO {CHANGE} (certificate_id, import_record_id, kind, field, old_value, new_value, changed_at)
                SELECT r.certificate_id, NULL, %s, 'expires_on', {_iso('r.old_expires_on')}, {_iso('r.new_expires_on')},
                       r.renewed_at
                  FROM {RENEWAL} r WHERE r.exam_id = %s AND r.renewed_at = %s""",
            [CertificateChangeKind.RENEWED.value, *params],
        )


def _iso(column: str) -> str:
    """A date column as YYYY-MM-DD text, on either database."""
    if connection.vendor == "postgresql":
        return f"to_char({column}, 'YYYY-MM-DD')"
    return f"CAST({column} AS TEXT)"


def certificates_renew(*, exam: Exam, dry_run: bool = False, user: Any = None) -> RenewalResult:
    if exam.kind != ExamKind.ENFORCEMENT_RENEWAL:
        raise DomainError(f"只有执法续职考试可以续期执法证；考试 {exam.pk}“{exam.name}”是{exam.get_kind_display()}。")
    result = RenewalResult(exam_id=exam.pk, dry_run=dry_run)
    closes_on = exam.closes_on
    now = timezone.now()
    with transaction.atomic():
        Exam.objects.select_for_update().filter(pk=exam.pk).first()
        passed = Candidate.objects.filter(exam=exam, passed=True).values("staff_id")
        certs = (
            Certificate.objects.filter(kind=CertificateKind.ENFORCEMENT, staff_id__in=passed)
            .order_by("number").values_list("pk", "number", "staff__staff_no", "status", "expires_on")
        )
        done = set(CertificateRenewal.objects.filter(exam=exam).values_list("certificate_id", flat=True))
        renewals: list[tuple] = []  # RENEWAL_COLUMNS
        by = user.pk if getattr(user, "pk", None) else None
        for pk, number, staff_no, status, expires_on in certs:
            if pk in done:
                result.already_renewed += 1
                continue
            if certificate_state(status=status, expires_on=expires_on, on=closes_on) not in (DUE, EXPIRED):
                result.not_due += 1
                continue
            new = renewed_expiry(old=expires_on, closes_on=closes_on)
            renewals.append((pk, exam.pk, expires_on, new, now, by))
            result.certificates.append({"number": number, "staff_no": staff_no,
                                        "old_expires_on": expires_on.isoformat(), "new_expires_on": new.isoformat()})
        result.renewed = len(renewals)
        if dry_run or not renewals:
            return result
        rows_insert(table=RENEWAL, columns=RENEWAL_COLUMNS, rows=renewals)
        _apply_renewals(exam=exam, at=now)
    return result
