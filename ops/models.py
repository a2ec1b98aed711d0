from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last sign of life of a process kind: ``worker:<queue>`` (written by each worker every
    ``WORKER_HEARTBEAT_SECONDS``) and ``beat`` (written by beat's scheduler as it ticks)."""

    name = models.CharField(_("名称"), max_length=200, unique=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    detail = models.CharField(_("说明"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("心跳")
        verbose_name_plural = _("心跳")

    def __str__(self) -> str:
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"
