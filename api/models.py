"""Who may do what (roles), what was looked at (audit), and wrong-password counters."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from roster.models import Unit


class Role(models.TextChoices):
    HR = "hr", _("人事部门")
    LEGAL_OFFICE = "legal_office", _("法治办")
    LIAISON = "liaison", _("单位联络员")
    VIEWER = "viewer", _("查阅人员")


class UserRole(models.Model):
    """A user's one role. A liaison's ``unit`` is the root of the subtree they may see."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_role"
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("负责单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="liaisons",
        help_text=_("仅单位联络员需要：可查看该单位及其下级单位。"),
    )
    rate_limit_exempt = models.BooleanField(
        _("免于接口限流"), default=False, help_text=_("仅供系统对接和压力测试账号使用。")
    )
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("用户角色")
        verbose_name_plural = _("用户角色")
        ordering = ["user__username"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="liaison") | models.Q(unit__isnull=False),
                name="userrole_liaison_has_unit",
            ),
        ]

    def __str__(self) -> str:
        where = f"（{self.unit.name}）" if self.unit_id else ""
        return f"{self.user.get_username()}：{self.get_role_display()}{where}"

    def clean(self) -> None:
        if self.role == Role.LIAISON and not self.unit_id:
            raise ValidationError({"unit": _("单位联络员必须指定负责单位。")})
        if self.role != Role.LIAISON and self.unit_id:
            raise ValidationError({"unit": _("只有单位联络员需要指定负责单位。")})


class AuditAction(models.TextChoices):
    REVEAL_ID_NUMBER = "reveal_id_number", _("查看完整身份证号")
    EXPORT = "export", _("导出个人信息")


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


class LoginThrottle(models.Model):
    """Recent wrong-password times for one account or one address (a sliding window)."""

    key = models.CharField(_("键"), max_length=200, unique=True)
    failures = models.JSONField(_("失败时间"), default=list, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("登录失败计数")
        verbose_name_plural = _("登录失败计数")
        ordering = ["-updated_at"]
        indexes = [
            # removal of counters whose window has passed
            models.Index(fields=["updated_at"], name="loginthrottle_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.key
