"""The reminders' outbox, the units' group robots, and the "send now" job.

Every message is a row before it is sent (the transactional outbox): the row is written in the
same transaction as the decision to send, then a sender claims it, sends it and marks it. A
unique key per (subject, recipient, channel, period) makes a second regular send impossible in
the database; ``--force`` writes extra rows outside that key, each recorded.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.jobs import Job
from exams.models import Exam
from roster.models import Unit


class Channel(models.TextChoices):
    EMAIL = "email", _("邮件")
    WECOM = "wecom", _("企业微信群机器人")
    DINGTALK = "dingtalk", _("钉钉群机器人")


ROBOTS = (Channel.WECOM, Channel.DINGTALK)


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


# What a digest is about. A kind is a label, not a database choice, so that an app adding a
# kind (certificates: "certificates_due") needs no migration here: it adds its label.
KIND_LABELS: dict[str, str] = {
    "not_sat": "未参考提醒",
    "hours_below": "学时未达标提醒",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


class ReminderMessage(models.Model):
    kind = models.CharField(_("提醒类型"), max_length=32)
    # "exam:12", "hours:2025": with recipient, channel and period, the once-only key
    subject_key = models.CharField(_("提醒对象"), max_length=64)
    exam = models.ForeignKey(
        Exam, verbose_name=_("考试"), null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    # the unit whose subtree the digest covers: the liaison's unit, or the unit of the robot
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="reminders")
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    # "user:7" (a liaison's email) or "unit:5" (the unit's robot of this channel)
    recipient_key = models.CharField(_("接收方标识"), max_length=64)
    recipient_masked = models.CharField(_("接收方"), max_length=200, help_text=_("邮箱脱敏，机器人只显示主机名"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("联络员"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    # "2026-W07" (the ISO week in Asia/Shanghai) or "2026-02-14" (a final reminder's day)
    period = models.CharField(_("周期"), max_length=16)
    forced = models.BooleanField(_("强制重发"), default=False)
    status = models.CharField(_("状态"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("错误"), blank=True, default="")
    count = models.PositiveIntegerField(_("人数"), default=0, help_text=_("未参考（或学时未达标）人数"))
    title = models.CharField(_("标题"), max_length=200, blank=True, default="")
    body = models.TextField(_("内容"), blank=True, default="", help_text=_("最近一次发送的内容"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("下次重试"), null=True, blank=True)
    # the end of the period: a message not sent by then is obsolete and no longer retried
    expires_at = models.DateTimeField(_("失效时间"))
    # the sender holding the row, and until when; a sender that died lets it lapse
    claim_token = models.CharField(max_length=32, blank=True, default="", editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("提醒消息")
        verbose_name_plural = _("提醒记录")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_key", "recipient_key", "channel", "period"], condition=Q(forced=False),
                name="reminder_once_per_period",
            ),
        ]
        indexes = [
            # the sweeper: failed rows due for a retry, queued rows whose sender died
            models.Index(fields=["status", "next_attempt_at"], name="reminder_due_idx"),
            # the list of the page and the API, newest first
            models.Index(fields=["-created_at"], name="reminder_created_idx"),
            # the counts by status (metrics)
            models.Index(fields=["status"], name="reminder_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{kind_label(self.kind)} {self.period} → {self.recipient_masked}（{self.get_status_display()}）"

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)


class UnitChannel(models.Model):
    """A unit's group robot. The webhook URL and the signing secret are credentials: stored
    encrypted (AES-GCM under FIELD_ENCRYPTION_KEY), shown only as the URL's host."""

    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="robots")
    channel = models.CharField(_("渠道"), max_length=16, choices=[(c.value, c.label) for c in ROBOTS])
    url_cipher = models.TextField(_("Webhook（密文）"), editable=False)
    host = models.CharField(_("Webhook 主机"), max_length=255, editable=False)
    secret_cipher = models.TextField(_("加签密钥（密文）"), blank=True, default="", editable=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("单位群机器人")
        verbose_name_plural = _("单位群机器人")
        ordering = ["unit__tree_key", "unit__code", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "channel"], name="unit_channel_once"),
        ]

    def __str__(self) -> str:
        return f"{self.unit.name}：{self.get_channel_display()}（{self.host}）"

    @property
    def signed(self) -> bool:
        return bool(self.secret_cipher)


class ReminderJob(Job):
    """"Send now" from the page or the API: the command's service run as a background job."""

    kind = models.CharField(_("提醒类型"), max_length=32, default="not_sat")
    exam = models.ForeignKey(Exam, verbose_name=_("考试"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    unit = models.ForeignKey(Unit, verbose_name=_("单位范围"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    dry_run = models.BooleanField(_("试运行"), default=False)
    force = models.BooleanField(_("强制重发"), default=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    result = models.JSONField(_("结果"), default=dict, blank=True)

    class Meta:
        verbose_name = _("立即发送任务")
        verbose_name_plural = _("立即发送任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{kind_label(self.kind)} #{self.pk}（{self.get_status_display()}）"
