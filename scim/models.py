from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DeactivationAllowance(models.Model):
    """An hr user's leave for SCIM to deactivate past the mass-deactivation guard, until
    ``until``. The guard counts only the deactivations after the latest allowance ended."""

    allowed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("批准人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    username = models.CharField(_("批准人用户名"), max_length=150)
    allowed_at = models.DateTimeField(_("批准时间"), default=timezone.now)
    until = models.DateTimeField(_("有效至"))

    class Meta:
        verbose_name = _("SCIM 大批停用许可")
        verbose_name_plural = _("SCIM 大批停用许可")
        ordering = ["-until", "-id"]

    def __str__(self) -> str:
        return f"{self.username} {self.allowed_at:%Y-%m-%d %H:%M}"
