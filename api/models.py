"""Wrong-password counters of the sign-in throttle."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
