"""The audit trail: every look at personal data beyond its masked forms, and every file
export of it. Domain apps write it through ``audit.services.audit_record``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    REVEAL_ID_NUMBER = "reveal_id_number", _("查看完整身份证号")
    EXPORT = "export", _("导出个人信息")
    LATE_IMPORT = "late_import", _("向久已截止的考试导入")
    VOID_IMPORT = "void_import", _("作废导入")
    UNDO_SYNC = "undo_sync", _("撤销名册同步")
    # a correction made on the pages or through the API (an exam, an event, an attendance
    # status, an exemption): who changed what, from what to what, and why
    CORRECTION = "correction", _("更正记录")


class AuditEvent(models.Model):
    """One look at personal data beyond the masked forms: who, what, when, why, how many rows."""

    at = models.DateTimeField(_("时间"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), null=True, blank=True, on_delete=models.SET_NULL
    )
    username = models.CharField(_("用户名"), max_length=150)
    action = models.CharField(_("操作"), max_length=32, choices=AuditAction.choices)
    target = models.CharField(_("对象"), max_length=255)
    reason = models.TextField(_("理由"), blank=True, default="")
    rows = models.PositiveIntegerField(_("行数"), default=0)
    address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)

    class Meta:
        # the table the api app created before the audit trail had an app of its own
        db_table = "api_auditevent"
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-at", "-id"]
        indexes = [
            # the audit list, newest first, and one user's history
            models.Index(fields=["-at"], name="audit_at_idx"),
            models.Index(fields=["user", "-at"], name="audit_user_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.get_action_display()} {self.target}"
