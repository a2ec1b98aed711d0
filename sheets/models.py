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
