from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from config.jobs import Job

from .storage import private_upload_storage


class ImportKind(models.TextChoices):
    EXAM_RESULTS = "exam_results", _("考试成绩")
    EXAM_EXEMPTIONS = "exam_exemptions", _("免考名单")
    ATTENDANCE = "attendance", _("签到表")
    CERTIFICATES = "certificates", _("执法证登记")


class ImportRecord(Job):
    """The record of one file import other than a roster sync (results, exemptions, sign-in
    sheets): what came in, what was applied, and every problem, kept for later review.

    ``target_id`` is the exam's or training event's id, by ``kind``. ``counts`` holds the
    import's own counters (applied, unmatched, conflicts, invalid, ...)."""

    kind = models.CharField(_("类型"), max_length=32, choices=ImportKind.choices, db_index=True)
    target_id = models.BigIntegerField(_("对象编号"), null=True, blank=True)
    file_name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    source_file = models.FileField(
        _("文件"), upload_to="imports/%Y/%m/", storage=private_upload_storage, null=True, blank=True, max_length=300
    )
    options = models.JSONField(_("选项"), default=dict, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    rows = models.PositiveIntegerField(_("行数"), default=0)
    applied = models.BooleanField(_("已应用"), default=False)
    counts = models.JSONField(_("计数"), default=dict, blank=True)
    problems = models.JSONField(_("问题"), default=list, blank=True)
    warnings = models.JSONField(_("提示"), default=list, blank=True)
    # which rows this import supplied is recorded (ImportSupply): imports made before that
    # provenance existed have False and cannot be voided
    supplies_recorded = models.BooleanField(_("记录了导入来源"), default=True, editable=False)
    voided_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("撤销人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    void_reason = models.TextField(_("撤销原因"), blank=True, default="")

    class Meta:
        verbose_name = _("导入记录")
        verbose_name_plural = _("导入记录")
        ordering = ["-created_at", "-id"]
        indexes = [
            # an exam's or event's imports, newest first
            models.Index(fields=["kind", "target_id", "-created_at"], name="import_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"


class StoredFile(models.Model):
    """The bytes of one private file (an upload waiting for its job, a generated report) when
    ``UPLOAD_STORAGE=database``: every machine of the deployment reads the same one."""

    name = models.CharField(_("名称"), max_length=300, unique=True)
    content = models.BinaryField(_("内容"))
    size = models.PositiveBigIntegerField(_("大小"))
    created_at = models.DateTimeField(_("存入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("存储的文件")
        verbose_name_plural = _("存储的文件")

    def __str__(self) -> str:
        return self.name


class SupplyKind(models.TextChoices):
    ATTEMPT = "attempt", _("考试记录")
    EXEMPTION = "exemption", _("免考")
    ATTENDANCE = "attendance", _("出勤记录")


class ImportSupply(models.Model):
    """One row an import supplied: an attempt, an exemption (the candidate's id) or an
    attendance. ``applied``: this import wrote the row; False when the row was already there
    (another import's, or entered by hand) and the file said it again. Voiding an import
    removes the rows it applied that no other import (not voided) supplied too.

    Written set-based by the results, exemptions and attendance imports, in their transaction."""

    import_record = models.ForeignKey(
        ImportRecord, verbose_name=_("导入记录"), on_delete=models.CASCADE, related_name="supplies",
        db_index=False, db_constraint=False,
    )
    kind = models.CharField(_("类型"), max_length=16, choices=SupplyKind.choices)
    object_id = models.BigIntegerField(_("记录编号"))
    applied = models.BooleanField(_("由本次导入写入"), default=False)

    class Meta:
        verbose_name = _("导入来源")
        verbose_name_plural = _("导入来源")
        constraints = [
            models.UniqueConstraint(fields=["import_record", "kind", "object_id"], name="import_supply_once"),
        ]
        indexes = [
            # who else supplied this row
            models.Index(fields=["kind", "object_id"], name="import_supply_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.import_record_id} {self.kind} {self.object_id}"
