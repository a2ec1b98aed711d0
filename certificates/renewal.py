"""Renewal through the renewal exam: every candidate who passed has each of their enforcement
certificates that is ``due`` or ``expired`` on the exam's closing date renewed. The new expiry
is the later of the old expiry and the closing date, plus ``CERT_RENEWAL_YEARS`` years. One
renewal row per (certificate, exam): a second run changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.errors import DomainError
from exams.models import Candidate, Exam, ExamKind

from .models import Certificate, CertificateChange, CertificateChangeKind, CertificateKind, CertificateRenewal
from .state import DUE, EXPIRED, certificate_state

BATCH = 2_000


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


def certificates_renew(*, exam: Exam, dry_run: bool = False, user: Any = None) -> RenewalResult:
    if exam.kind != ExamKind.ENFORCEMENT_RENEWAL:
        raise DomainError(f"只有执法续职考试可以续期执法证；考试 {exam.pk}“{exam.name}”是{exam.get_kind_display()}。")
    result = RenewalResult(exam_id=exam.pk, dry_run=dry_run)
    closes_on = exam.closes_on
    now = timezone.now()
    with transaction.atomic():
        Exam.objects.select_for_update().filter(pk=exam.pk).first()
        passed = Candidate.objects.filter(exam=exam, passed=True).values("staff_id")
        certs = list(
            Certificate.objects.filter(kind=CertificateKind.ENFORCEMENT, staff_id__in=passed)
            .select_related("staff").order_by("number")
        )
        done = set(CertificateRenewal.objects.filter(exam=exam).values_list("certificate_id", flat=True))
        renewals: list[CertificateRenewal] = []
        changed: list[Certificate] = []
        for cert in certs:
            if cert.pk in done:
                result.already_renewed += 1
                continue
            if certificate_state(status=cert.status, expires_on=cert.expires_on, on=closes_on) not in (DUE, EXPIRED):
                result.not_due += 1
                continue
            new = renewed_expiry(old=cert.expires_on, closes_on=closes_on)
            renewals.append(CertificateRenewal(certificate=cert, exam=exam, old_expires_on=cert.expires_on,
                                               new_expires_on=new, renewed_at=now,
                                               renewed_by=user if getattr(user, "pk", None) else None))
            result.certificates.append({"number": cert.number, "staff_no": cert.staff.staff_no,
                                        "old_expires_on": cert.expires_on.isoformat(),
                                        "new_expires_on": new.isoformat()})
            cert.expires_on, cert.updated_at = new, now
            changed.append(cert)
        result.renewed = len(renewals)
        if dry_run or not renewals:
            return result
        CertificateRenewal.objects.bulk_create(renewals, batch_size=BATCH)
        Certificate.objects.bulk_update(changed, ["expires_on", "updated_at"], batch_size=BATCH)
        CertificateChange.objects.bulk_create([
            CertificateChange(certificate_id=r.certificate_id, kind=CertificateChangeKind.RENEWED, field="expires_on",
                              old_value=r.old_expires_on.isoformat(), new_value=r.new_expires_on.isoformat(),
                              changed_at=now)
            for r in renewals
        ], batch_size=BATCH)
    return result
