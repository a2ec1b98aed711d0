"""Who may do what: each user's one role, and the unit whose subtree a scoped role sees."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from roster.models import Staff, Unit


class Role(models.TextChoices):
    HR = "hr", _("人事部门")
    LEGAL_OFFICE = "legal_office", _("法治办")
    LIAISON = "liaison", _("单位联络员")
    VIEWER = "viewer", _("查阅人员")
    STAFF = "staff", _("本人")
    PROVISIONER = "provisioner", _("SCIM 对接账号")


# the roles that may name a unit (a liaison must; an office may, to work in that subtree only)
SCOPED_ROLES = ("liaison", "legal_office", "hr")


class UserRole(models.Model):
    """A user's one role. A liaison's ``unit`` is the root of the subtree they may see; a
    legal_office or hr role with a ``unit`` is a scoped office (a city's or district's), and
    sees and writes only that subtree (without one it works everywhere). A staff account's
    ``staff`` is the one person it sees (its own learning record)."""

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
        help_text=_("单位联络员必填；法治办、人事部门可选（只管理该单位及其下级单位，不填则管理全部）。"),
    )
    staff = models.ForeignKey(
        Staff,
        verbose_name=_("本人"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="user_roles",
        help_text=_("仅“本人”角色需要：该账号只能查看这名人员的学法档案。"),
    )
    rate_limit_exempt = models.BooleanField(
        _("免于接口限流"), default=False, help_text=_("仅供系统对接和压力测试账号使用。")
    )
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        # the table the api app created before roles had an app of their own
        db_table = "api_userrole"
        verbose_name = _("用户角色")
        verbose_name_plural = _("用户角色")
        ordering = ["user__username"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="liaison") | models.Q(unit__isnull=False),
                name="userrole_liaison_has_unit",
            ),
            # only liaisons and scoped offices (legal_office, hr) name a unit
            models.CheckConstraint(
                condition=models.Q(unit__isnull=True) | models.Q(role__in=["liaison", "legal_office", "hr"]),
                name="userrole_unit_only_scoped_roles",
            ),
            # a staff account is the account of exactly one person, and only it names one
            models.CheckConstraint(
                condition=(models.Q(role="staff") & models.Q(staff__isnull=False))
                | (~models.Q(role="staff") & models.Q(staff__isnull=True)),
                name="userrole_staff_has_person",
            ),
            # one account per person
            models.UniqueConstraint(
                fields=["staff"], condition=models.Q(staff__isnull=False), name="userrole_one_account_per_person"
            ),
        ]

    def __str__(self) -> str:
        where = f"（{self.unit.name}）" if self.unit_id else f"（{self.staff.name}）" if self.staff_id else ""
        return f"{self.user.get_username()}：{self.get_role_display()}{where}"

    def clean(self) -> None:
        if self.role == Role.LIAISON and not self.unit_id:
            raise ValidationError({"unit": _("单位联络员必须指定负责单位。")})
        if self.role not in SCOPED_ROLES and self.unit_id:
            raise ValidationError({"unit": _("只有单位联络员、法治办和人事部门可以指定负责单位。")})
        if self.role == Role.STAFF and not self.staff_id:
            raise ValidationError({"staff": _("“本人”角色必须关联一名人员。")})
        if self.role != Role.STAFF and self.staff_id:
            raise ValidationError({"staff": _("只有“本人”角色需要关联人员。")})
