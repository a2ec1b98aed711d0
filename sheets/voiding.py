"""Voiding an import: remove exactly the rows it applied (attempts, exemptions, attendances),
keeping those another import (not voided) also supplied. The provenance is ``ImportSupply``;
the apps that own the rows register how to remove them (``register_voider``, from their
``AppConfig.ready``), so this module never imports them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record, audit_text_check
from config.errors import DomainError, NotFound
from config.jobs import JobStatus

from .models import ImportRecord, ImportSupply, SupplyKind

SUPPLY = ImportSupply._meta.db_table
IMPORT = ImportRecord._meta.db_table

# what a voider gets: the record (locked), and for each supply kind the SQL selecting the ids
# of the rows to remove, with its parameters; ``dry_run`` counts without changing anything.
# It returns the rows it removed (or would remove), by supply kind.
Voider = Callable[..., dict[str, int]]
VOIDERS: dict[str, tuple[tuple[str, ...], Voider]] = {}

REMOVED_KEYS = {SupplyKind.ATTEMPT: "attempts", SupplyKind.EXEMPTION: "exemptions", SupplyKind.ATTENDANCE: "attendances"}


def register_voider(*, kind: str, supplies: tuple[str, ...], voider: Voider) -> None:
    VOIDERS[kind] = (supplies, voider)


@dataclass
class VoidResult:
    import_id: int
    dry_run: bool
    removed: dict[str, int] = field(default_factory=lambda: {"attempts": 0, "exemptions": 0, "attendances": 0})
    kept: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "dry_run": self.dry_run, "removed": dict(self.removed), "kept": self.kept}

    @property
    def total_removed(self) -> int:
        return sum(self.removed.values())


def supply_record_sql(*, record: ImportRecord, kind: str, select_sql: str, params: list[Any]) -> int:
    """Record set-based which rows an import supplied: ``select_sql`` selects (object id,
    applied) pairs. Duplicates (the same row twice in a file) are recorded once."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {SUPPLY} (import_record_id, kind, object_id, applied)
                SELECT %s, %s, q.object_id, q.applied FROM ({select_sql}) q WHERE q.object_id IS NOT NULL
                ON CONFLICT DO NOTHING""",
            [record.pk, kind, *params],
        )
        return max(cursor.rowcount, 0)


def _removable_sql(record: ImportRecord, kind: str) -> tuple[str, list[Any]]:
    """The ids of the rows of ``kind`` this import supplied that no other import still
    standing supplied, and that some import wrote (not rows entered by hand that the file
    merely repeated)."""
    sql = f"""SELECT s.object_id FROM {SUPPLY} s
               WHERE s.import_record_id = %s AND s.kind = %s
                 AND NOT EXISTS (SELECT 1 FROM {SUPPLY} o JOIN {IMPORT} r ON r.id = o.import_record_id
                                  WHERE o.kind = s.kind AND o.object_id = s.object_id
                                    AND o.import_record_id <> s.import_record_id AND r.voided_at IS NULL)
                 AND EXISTS (SELECT 1 FROM {SUPPLY} p WHERE p.kind = s.kind AND p.object_id = s.object_id
                                AND p.applied = %s)"""
    return sql, [record.pk, kind, True]


def _refusal(record: ImportRecord) -> DomainError | None:
    if record.voided_at is not None:
        return DomainError(
            f"导入 {record.pk} 已于 {timezone.localtime(record.voided_at):%Y-%m-%d %H:%M} 撤销，不能再次撤销。",
            code="conflict",
        )
    if record.kind not in VOIDERS:
        return DomainError(f"“{record.get_kind_display()}”类导入不能撤销：只能撤销考试成绩、免考名单和签到表的导入。")
    if (record.options or {}).get("dry_run"):
        return DomainError(f"导入 {record.pk} 是试运行，没有导入任何数据，无需撤销。")
    if record.status != JobStatus.SUCCEEDED:
        return DomainError(f"导入 {record.pk} 未成功完成（状态：{record.get_status_display()}），没有导入任何数据，无需撤销。")
    if not record.supplies_recorded:
        return DomainError(
            f"导入 {record.pk} 早于系统记录“每行数据来自哪次导入”的功能，无法确定它导入了哪些记录，不能撤销；"
            "如需更正，请在管理后台逐条处理。"
        )
    return None


def import_void_refusal(*, record: ImportRecord) -> str:
    """Why this import cannot be voided ("" when it can): for a page to show the button or not."""
    refusal = _refusal(record)
    return refusal.message if refusal is not None else ""


def import_void(
    *, import_id: int | str, dry_run: bool = False, reason: str = "", user: Any = None, username: str = "system",
    records: Any = None,
) -> VoidResult:
    """Void one import (or, with ``dry_run``, say what voiding it would remove). Refused
    (DomainError) for an import already voided (``conflict``), of a kind that cannot be voided,
    a dry run, one that did not succeed, or one made before provenance was recorded.
    ``records``: the queryset the import must be in (the caller's scope); all by default.

    In one transaction: the rows go (set-based), the record says when, who and why, an audit
    record is written, and the figures are refreshed once it commits (the voiders announce
    ``figures_changed``)."""
    try:
        pk = int(import_id)
    except (TypeError, ValueError):
        raise NotFound(f"导入编号应为整数，而不是“{import_id}”。")
    reason = (reason or "").strip()
    audit_text_check(reason)
    base = ImportRecord.objects.all() if records is None else records
    with transaction.atomic():
        record = base.select_for_update().filter(pk=pk).first()
        if record is None:
            raise NotFound(f"导入记录不存在：编号 {pk}。")
        refusal = _refusal(record)
        if refusal is not None:
            raise refusal
        supplies, voider = VOIDERS[record.kind]
        result = VoidResult(import_id=record.pk, dry_run=dry_run)
        removable = {kind: _removable_sql(record, kind) for kind in supplies}
        removed = voider(record=record, removable=removable, dry_run=dry_run)
        for kind, count in removed.items():
            result.removed[REMOVED_KEYS[kind]] = count
        supplied = ImportSupply.objects.filter(import_record=record, kind__in=supplies).count()
        result.kept = max(supplied - result.total_removed, 0)
        if dry_run:
            return result
        now = timezone.now()
        ImportRecord.objects.filter(pk=record.pk).update(
            voided_at=now, voided_by=user if getattr(user, "pk", None) else None, void_reason=reason
        )
        removed_text = "，".join(
            f"{label} {result.removed[key]}" for key, label in
            (("attempts", "考试记录"), ("exemptions", "免考"), ("attendances", "出勤记录"))
        )
        audit_record(
            user=user, action=AuditAction.VOID_IMPORT, username=username,
            target=f"导入 {record.pk}（{record.get_kind_display()}：{record.file_name}）",
            reason=f"{reason or '未填原因'}；删除{removed_text}，保留 {result.kept}",
            rows=result.total_removed,
        )
    return result
