from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.jobs import Job
from config.text import validate_no_control_chars
from sheets.storage import private_upload_storage

from . import idnumbers


class UnitKind(models.TextChoices):
    ADMIN = "admin", _("行政机关")
    DEPARTMENT = "department", _("部门")
    TOWN = "town", _("镇")
    EDUCATION = "education", _("教育系统")
    SCHOOL = "school", _("学校")
    OTHER = "other", _("其他")


class Unit(models.Model):
    code = models.CharField(_("单位代码"), max_length=32, unique=True, validators=[validate_no_control_chars])
    name = models.CharField(_("单位名称"), max_length=200, validators=[validate_no_control_chars])
    parent = models.ForeignKey(
        "self", verbose_name=_("上级单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=UnitKind.choices, default=UnitKind.OTHER)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.IntegerField(_("排序"), default=0)
    # "/1/7/23/": ids from the root down. Kept by unit services; a subtree is a prefix match.
    path = models.CharField(_("路径"), max_length=512, default="/", editable=False)
    depth = models.PositiveSmallIntegerField(_("层级"), default=0, editable=False)
    # the unit's place in the tree order (depth first; siblings by sort_order, then code), kept
    # by units_rebuild_paths with the path, so SQL can ORDER BY one column: see roster.ordering
    tree_key = models.PositiveIntegerField(_("树序"), default=0, editable=False)
    # when the unit joined the tree; empty for units older than this column. A per-unit table of
    # a past exam lists a unit without candidates only if it stood then.
    created_at = models.DateTimeField(_("创建时间"), null=True, blank=True, default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["tree_key", "code"]
        indexes = [
            # subtree filters: path LIKE '/1/7/%' (pattern ops: a plain btree serves LIKE only
            # under the "C" collation, and a database made with C.UTF-8 scanned every unit)
            models.Index(fields=["path"], name="unit_path_idx", opclasses=["varchar_pattern_ops"]),
            # every list of units, in tree order (roster.ordering); with the code, the whole
            # order, so a page of rows per unit can walk the units in order
            models.Index(fields=["tree_key", "code"], name="unit_tree_key_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Staff(models.Model):
    staff_no = models.CharField(_("工号"), max_length=64, unique=True, validators=[validate_no_control_chars])
    name = models.CharField(_("姓名"), max_length=100, validators=[validate_no_control_chars])
    gender = models.CharField(_("性别"), max_length=8, blank=True, default="", validators=[validate_no_control_chars])
    id_number_cipher = models.CharField(_("身份证号（密文）"), max_length=128, editable=False)
    id_number_hash = models.CharField(_("身份证号（散列）"), max_length=64, unique=True, editable=False)
    id_number_masked = models.CharField(_("身份证号"), max_length=32, editable=False)
    # the (unit, is_active) index below serves unit lookups; no separate FK index
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="staff", db_index=False
    )
    position = models.CharField(_("职务"), max_length=200, blank=True, default="", validators=[validate_no_control_chars])
    category = models.CharField(_("人员类别"), max_length=100, blank=True, default="", validators=[validate_no_control_chars])
    is_head = models.BooleanField(_("单位正职"), default=False)
    enforcement_cert = models.CharField(_("执法证号"), max_length=64, blank=True, default="", validators=[validate_no_control_chars])
    phone = models.CharField(_("手机号"), max_length=32, blank=True, default="", validators=[validate_no_control_chars])
    is_active = models.BooleanField(_("在册"), default=True)
    joined_on = models.DateField(_("入册日期"), null=True, blank=True)
    left_on = models.DateField(_("离册日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    # HR's own id for this person, as a SCIM client sent it (externalId); "" when none
    # (db_default: the set-based sync inserts rows in SQL without naming these columns)
    external_id = models.CharField(_("外部标识"), max_length=255, blank=True, default="", db_default="",
                                   validators=[validate_no_control_chars])
    # deleted by SCIM (RFC 7644 §3.6): deactivated, never removed, and answered 404 by SCIM
    # while inactive; a later SCIM POST with the same 工号 reactivates the same person
    scim_deleted = models.BooleanField(_("已被 SCIM 删除"), default=False, db_default=False, editable=False)
    created_by_sync = models.ForeignKey(
        "RosterSync", verbose_name=_("创建于同步"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", db_index=False, db_constraint=False, editable=False,
    )

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["staff_no"]
        indexes = [
            # per-unit lists of active staff (not-sat lists, unit pages)
            models.Index(fields=["unit", "is_active"], name="staff_unit_active_idx"),
            # the roster's latest change, which open exams compare with to know they are current
            models.Index(fields=["updated_at"], name="staff_updated_idx"),
            # SCIM's externalId filter (only the people who have one)
            models.Index(fields=["external_id"], name="staff_external_id_idx", condition=~models.Q(external_id="")),
            # No index on name or phone: the matcher looks them up a few thousand at a time,
            # where a scan costs less than keeping two more indexes on every roster write.
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.staff_no}）"

    @property
    def is_enforcement_officer(self) -> bool:
        return bool(self.enforcement_cert)

    def set_id_number(self, value: str) -> None:
        value = idnumbers.normalise(value)
        self.id_number_cipher = idnumbers.encrypt(value)
        self.id_number_hash = idnumbers.digest(value)
        self.id_number_masked = idnumbers.mask(value)

    def reveal_id_number(self) -> str:
        return idnumbers.decrypt(self.id_number_cipher)

    @property
    def phone_masked(self) -> str:
        return idnumbers.mask_phone(self.phone)


class SyncMode(models.TextChoices):
    FULL = "full", _("全量")
    PARTIAL = "partial", _("增量")


class SyncSource(models.TextChoices):
    CLI = "cli", _("命令行")
    API = "api", _("接口")
    WEB = "web", _("网页")
    DROP_DIR = "drop_dir", _("投递目录")


class SyncKind(models.TextChoices):
    SYNC = "sync", _("同步")
    UNDO = "undo", _("撤销")


class RosterSync(Job):
    # an undo (roster.undo) is a sync record too: it puts back what ``undoes`` applied
    kind = models.CharField(_("类别"), max_length=8, choices=SyncKind.choices, default=SyncKind.SYNC)
    undoes = models.ForeignKey(
        "self", verbose_name=_("撤销的同步"), null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by"
    )
    skip_conflicts = models.BooleanField(_("跳过冲突"), default=False)
    file_name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    source_file = models.FileField(
        _("文件"), upload_to="roster/%Y/%m/", storage=private_upload_storage, null=True, blank=True, max_length=300
    )
    source = models.CharField(_("来源"), max_length=16, choices=SyncSource.choices, default=SyncSource.CLI)
    mode = models.CharField(_("模式"), max_length=16, choices=SyncMode.choices, default=SyncMode.FULL)
    dry_run = models.BooleanField(_("试运行"), default=False)
    skip_invalid = models.BooleanField(_("跳过错误行"), default=False)
    allow_mass_deactivation = models.BooleanField(_("允许大批停用"), default=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    # a scoped hr office's sync: every row's unit must lie in this subtree, and a full sync
    # deactivates only there. None: the whole roster (the command line, an unscoped hr)
    root = models.ForeignKey(
        "Unit", verbose_name=_("同步范围"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applied = models.BooleanField(_("已应用"), default=False)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    created = models.PositiveIntegerField(_("新增"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("未变"), default=0)
    deactivated = models.PositiveIntegerField(_("停用"), default=0)
    reactivated = models.PositiveIntegerField(_("恢复"), default=0)
    rejected = models.PositiveIntegerField(_("拒绝行数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    warnings = models.JSONField(_("提示"), default=list, blank=True)
    preview = models.JSONField(_("变更预览"), default=dict, blank=True)

    class Meta:
        verbose_name = _("名册同步")
        verbose_name_plural = _("名册同步")
        ordering = ["-created_at", "-id"]
        constraints = [
            # a file dropped in the watched folder is synced once, however often it is seen
            models.UniqueConstraint(
                fields=["sha256"], condition=models.Q(source="drop_dir"), name="roster_sync_drop_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.get_status_display()}）"

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deactivated": self.deactivated,
            "reactivated": self.reactivated,
            "rejected": self.rejected,
        }


class DropFileStatus(models.TextChoices):
    PENDING = "pending", _("等待文件稳定")
    QUEUED = "queued", _("已提交同步")
    DUPLICATE = "duplicate", _("内容已同步过")
    REJECTED = "rejected", _("已拒收")


class RosterDropFile(models.Model):
    """One file seen in the drop folder: its size and mtime at the last scan (a file is taken
    only when both are unchanged across two scans), then what became of it."""

    path = models.CharField(_("文件"), max_length=500)
    size = models.BigIntegerField(_("大小"), default=0)
    mtime = models.FloatField(_("修改时间戳"), default=0)
    status = models.CharField(_("状态"), max_length=16, choices=DropFileStatus.choices, default=DropFileStatus.PENDING)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, default="")
    sync = models.ForeignKey(
        RosterSync, verbose_name=_("名册同步"), null=True, blank=True, on_delete=models.SET_NULL, related_name="drop_files"
    )
    reason = models.TextField(_("说明"), blank=True, default="")
    moved_to = models.CharField(_("移至"), max_length=500, blank=True, default="")
    first_seen_at = models.DateTimeField(_("首次发现"), default=timezone.now)
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投递目录文件")
        verbose_name_plural = _("投递目录文件")
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            # one file waiting under one name; the scan looks it up by path
            models.UniqueConstraint(fields=["path"], condition=models.Q(status="pending"), name="roster_drop_file_pending_once"),
        ]
        indexes = [
            # the follow-up of queued files whose sync ended refused or failed
            models.Index(fields=["status", "sync"], name="roster_drop_file_status"),
        ]

    def __str__(self) -> str:
        return f"{self.path}（{self.get_status_display()}）"


class ChangeKind(models.TextChoices):
    CREATED = "created", _("新增")
    UPDATED = "updated", _("修改")
    MOVED = "moved", _("调动")
    DEACTIVATED = "deactivated", _("停用")
    REACTIVATED = "reactivated", _("恢复")


class ChangeSource(models.TextChoices):
    """Where a change came from, when not a roster sync (``sync`` says which one)."""

    SYNC = "", _("名册同步或手工修改")
    SCIM = "scim", _("SCIM 对接")


class StaffChange(models.Model):
    # served by the (staff, -changed_at) index below
    staff = models.ForeignKey(
        Staff, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="changes", db_index=False
    )
    sync = models.ForeignKey(
        RosterSync, verbose_name=_("名册同步"), null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=ChangeKind.choices)
    field = models.CharField(_("字段"), max_length=32, blank=True, default="")
    old_value = models.TextField(_("原值"), blank=True, default="")
    new_value = models.TextField(_("新值"), blank=True, default="")
    # what an undo puts back, where the shown value is not the stored one: the unit's id, the
    # ID number's hash (its sealed form in *_sealed, never plain text), the 离册日期 of an
    # is_active change. Empty for the other fields, whose shown value is the stored one.
    old_ref = models.CharField(_("原值（存储）"), max_length=64, blank=True, default="", editable=False)
    new_ref = models.CharField(_("新值（存储）"), max_length=64, blank=True, default="", editable=False)
    old_sealed = models.CharField(_("原身份证号（密文）"), max_length=128, blank=True, default="", editable=False)
    new_sealed = models.CharField(_("新身份证号（密文）"), max_length=128, blank=True, default="", editable=False)
    changed_at = models.DateTimeField(_("时间"), default=timezone.now)
    source = models.CharField(_("来源"), max_length=16, choices=ChangeSource.choices, blank=True, default="",
                              db_default="")

    class Meta:
        verbose_name = _("人员变动")
        verbose_name_plural = _("人员变动")
        ordering = ["-changed_at", "-id"]
        indexes = [
            # a staff member's history, newest first
            models.Index(fields=["staff", "-changed_at"], name="staffchange_staff_idx"),
            # the SCIM mass-deactivation guard: SCIM's deactivations of the last hour
            models.Index(fields=["changed_at"], name="staffchange_scim_deact_idx",
                         condition=models.Q(source="scim", kind="deactivated")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.field}"


class KeyPurpose(models.TextChoices):
    AES = "aes", _("加密密钥")
    HMAC = "hmac", _("散列密钥")


class FieldKeyCanary(models.Model):
    """A keyed MAC of a fixed string for each key the stored data uses (never the key). The web
    app, the workers and the commands refuse to start when the configured keys do not match."""

    purpose = models.CharField(_("用途"), max_length=8, choices=KeyPurpose.choices)
    canary = models.CharField(_("校验值"), max_length=64)
    # retired: the rotation moved every value to a newer key; the key may be removed
    retired = models.BooleanField(_("已退役"), default=False)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    retired_at = models.DateTimeField(_("退役时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("密钥校验")
        verbose_name_plural = _("密钥校验")
        constraints = [models.UniqueConstraint(fields=["purpose", "canary"], name="field_key_canary_once")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.canary[:8]}"
class PreviewKind(models.TextChoices):
    CREATED = "created", _("新增")
    UPDATED = "updated", _("修改")
    DEACTIVATED = "deactivated", _("停用")
    REACTIVATED = "reactivated", _("恢复")


class SyncPreviewChange(models.Model):
    """One change a dry run (or a refused sync) would have made, with the old and new value of
    each field: what HR approves before "停用 150 人". ID numbers are stored masked only."""

    sync = models.ForeignKey(RosterSync, on_delete=models.CASCADE, related_name="preview_changes")
    row_no = models.PositiveIntegerField(_("行号"), null=True, blank=True)
    staff_no = models.CharField(_("工号"), max_length=64)
    name = models.CharField(_("姓名"), max_length=100)
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    kind = models.CharField(_("类型"), max_length=16, choices=PreviewKind.choices)
    fields = models.JSONField(_("字段"), default=dict, blank=True)

    class Meta:
        verbose_name = _("同步预览变动")
        verbose_name_plural = _("同步预览变动")
        ordering = ["id"]
        indexes = [models.Index(fields=["sync", "kind"], name="syncpreview_sync_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.staff_no}"
