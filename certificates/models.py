"""The register of enforcement certificates (行政执法证), their history and their renewals.

A certificate's *state on a date* is not stored: it is computed in one place,
``certificates.state``, from the stored ``status`` and ``expires_on``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exams.models import Exam
from roster.models import Staff
from sheets.models import ImportRecord


class CertificateKind(models.TextChoices):
    ENFORCEMENT = "enforcement", _("行政执法证")
    SUPERVISION = "supervision", _("行政执法监督证")


class CertificateStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    SUSPENDED = "suspended", _("暂扣")
    REVOKED = "revoked", _("吊销")
    SURRENDERED = "surrendered", _("注销")


class Certificate(models.Model):
    number = models.CharField(_("证件号"), max_length=64, unique=True)
    kind = models.CharField(_("证件类型"), max_length=16, choices=CertificateKind.choices,
                            default=CertificateKind.ENFORCEMENT)
    # served by the (staff, kind) index below
    staff = models.ForeignKey(Staff, verbose_name=_("持证人"), on_delete=models.PROTECT,
                              related_name="certificates", db_index=False)
    issued_on = models.DateField(_("发证日期"))
    expires_on = models.DateField(_("有效期至"))
    authority = models.CharField(_("发证机关"), max_length=200, blank=True, default="")
    status = models.CharField(_("状态"), max_length=16, choices=CertificateStatus.choices,
                              default=CertificateStatus.ACTIVE)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("执法证")
        verbose_name_plural = _("执法证")
        ordering = ["expires_on", "number"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_on__gte=F("issued_on")), name="certificate_expiry_after_issue"),
        ]
        indexes = [
            # a person's certificates of a kind (renewal, the audience, reconciliation)
            models.Index(fields=["staff", "kind"], name="certificate_staff_kind_idx"),
            # the due and expired lists: certificates by expiry
            models.Index(fields=["expires_on"], name="certificate_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class CertificateChangeKind(models.TextChoices):
    CREATED = "created", _("新增")
    UPDATED = "updated", _("修改")
    RENEWED = "renewed", _("续期")


class CertificateChange(models.Model):
    """One change to a certificate, field by field, in the style of StaffChange."""

    # served by the (certificate, -changed_at) index below
    certificate = models.ForeignKey(Certificate, verbose_name=_("执法证"), on_delete=models.CASCADE,
                                    related_name="changes", db_index=False)
    import_record = models.ForeignKey(ImportRecord, verbose_name=_("导入记录"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    kind = models.CharField(_("类型"), max_length=16, choices=CertificateChangeKind.choices)
    field = models.CharField(_("字段"), max_length=32, blank=True, default="")
    old_value = models.TextField(_("原值"), blank=True, default="")
    new_value = models.TextField(_("新值"), blank=True, default="")
    changed_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("执法证变动")
        verbose_name_plural = _("执法证变动")
        ordering = ["-changed_at", "-id"]
        indexes = [
            # a certificate's history, newest first
            models.Index(fields=["certificate", "-changed_at"], name="certchange_cert_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.field}"


class CertificateRenewal(models.Model):
    """A renewal of one certificate by one renewal exam: at most one per (certificate, exam)."""

    certificate = models.ForeignKey(Certificate, verbose_name=_("执法证"), on_delete=models.CASCADE,
                                    related_name="renewals")
    exam = models.ForeignKey(Exam, verbose_name=_("续职考试"), on_delete=models.PROTECT, related_name="+")
    old_expires_on = models.DateField(_("原有效期至"))
    new_expires_on = models.DateField(_("新有效期至"))
    renewed_at = models.DateTimeField(_("续期时间"), default=timezone.now)
    renewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("执法证续期")
        verbose_name_plural = _("执法证续期")
        ordering = ["-renewed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["certificate", "exam"], name="certificate_renewed_once_per_exam"),
        ]
        indexes = [
            # the year's renewals, for the annual report (an exam's: the foreign key's index)
            models.Index(fields=["renewed_at"], name="certrenewal_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.certificate_id} @ {self.exam_id}"
