"""Undo a roster sync: put back, set-based and in one transaction, exactly what one applied
sync (or undo) changed, from its StaffChange rows.

- each field it changed goes back to the value before (the ID number from its sealed form
  and hash, never plain text; the unit by id);
- the people it deactivated are reactivated, with the 离册日期 they had; the people it
  created are deactivated, never deleted;
- a field changed again since (a later sync, the API, SCIM) is a conflict: the undo refuses
  as a whole, or with ``skip_conflicts`` reverts the rest.

The undo is itself a ``RosterSync`` (``kind=undo``, ``undoes``) with its own StaffChange rows,
so it shows in the sync list and can be undone in turn.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from config.cli import command_username
from config.errors import DomainError
from config.events import ROSTER, figures_changed
from config.jobs import FINISHED, JobStatus, job_enqueue, job_fence, job_finish, job_run

from . import idnumbers
from .locks import roster_lock
from .models import RosterSync, Staff, StaffChange, SyncKind, SyncSource, Unit

logger = logging.getLogger(__name__)

PLAN = "roster_undo_plan"
PIVOT = "roster_undo_staff"
STAFF = Staff._meta.db_table
CHANGE = StaffChange._meta.db_table
UNIT = Unit._meta.db_table

TEXT_FIELDS = ("name", "gender", "position", "category", "enforcement_cert", "phone")
# every field an undo can put back; is_active with the 离册日期
FIELDS = (*TEXT_FIELDS, "unit", "id_number", "is_head", "is_active")
# personal values shown masked in the list of conflicts
MASKED = {"phone": idnumbers.mask_phone}
# how many conflicts the record keeps (the command prints them all)
CONFLICTS_KEPT = 2000

UNDO_JOB = "roster_undo"


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _temp(name: str) -> str:
    return f"CREATE TEMP TABLE {name}" + (" ON COMMIT DROP" if _is_postgres() else "")


@dataclass
class UndoResult:
    sync_id: int | None
    undoes: int | None
    status: str
    dry_run: bool
    applied: bool
    message: str = ""
    reverted: dict[str, int] = field(default_factory=lambda: {"updated": 0, "reactivated": 0, "deactivated": 0})
    conflicts: list[dict[str, str]] = field(default_factory=list)
    skipped: int = 0

    @classmethod
    def of(cls, sync: RosterSync, conflicts: list[dict[str, str]] | None = None) -> UndoResult:
        preview = sync.preview or {}
        return cls(
            sync_id=sync.pk, undoes=sync.undoes_id, status=sync.status, dry_run=sync.dry_run, applied=sync.applied,
            message=sync.message,
            reverted={"updated": sync.updated, "reactivated": sync.reactivated, "deactivated": sync.deactivated},
            conflicts=conflicts if conflicts is not None else list(preview.get("conflicts", [])),
            skipped=int(preview.get("skipped", 0)),
        )

    @property
    def ok(self) -> bool:
        """What the exit status reflects: applied, or a dry run that would apply."""
        return self.applied or (self.dry_run and self.status == JobStatus.SUCCEEDED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sync_id": self.sync_id,
            "undoes": self.undoes,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "reverted": dict(self.reverted),
            "conflicts": list(self.conflicts),
            "skipped": self.skipped,
        }


# --- refusals -----------------------------------------------------------------------------


def roster_undo_refusal(*, target: RosterSync, excluding: int | None = None) -> DomainError | None:
    """Why ``target`` cannot be undone (None when it can): a dry run, a sync not applied
    (failed or refused), one still running, one already undone or being undone."""
    label = "撤销" if target.kind == SyncKind.UNDO else "同步"
    if target.dry_run:
        return DomainError(f"{label} #{target.pk} 是试运行，没有改动名册，无法撤销。")
    if target.status not in FINISHED:
        return DomainError(f"{label} #{target.pk} 尚未完成，不能撤销。", code="conflict")
    if not target.applied:
        return DomainError(
            f"{label} #{target.pk} 未成功应用（{target.get_status_display()}），名册没有它的改动，无法撤销。"
        )
    undos = RosterSync.objects.filter(kind=SyncKind.UNDO, undoes=target, dry_run=False).exclude(pk=excluding)
    # undone: by an applied undo that was not itself undone (then the changes are back)
    done = next((u for u in undos.filter(applied=True).order_by("-pk")
                 if not RosterSync.objects.filter(kind=SyncKind.UNDO, undoes=u, dry_run=False, applied=True).exists()),
                None)
    if done is not None:
        return DomainError(f"{label} #{target.pk} 已由撤销 #{done.pk} 撤销，不能重复撤销。", code="conflict")
    pending = undos.exclude(status__in=FINISHED).first()
    if pending is not None:
        return DomainError(f"{label} #{target.pk} 正在由撤销 #{pending.pk} 撤销，请等它完成。", code="conflict")
    missing = StaffChange.objects.filter(sync=target, field__in=("unit", "id_number"), old_ref="").exists()
    if missing:
        return DomainError(f"{label} #{target.pk} 早于撤销功能，它的历史没有保存可还原的原值，无法撤销。")
    return None


# --- the plan, in SQL -----------------------------------------------------------------------


def _conflict_sql() -> str:
    """True where the staff's current value is no longer what the sync wrote."""
    branches = [f"WHEN '{f}' THEN t.{f} <> c.new_value" for f in TEXT_FIELDS]
    branches += [
        "WHEN 'unit' THEN CAST(t.unit_id AS TEXT) <> c.new_ref",
        "WHEN 'id_number' THEN t.id_number_hash <> c.new_ref",
        "WHEN 'is_head' THEN (CASE WHEN t.is_head THEN '是' ELSE '否' END) <> c.new_value",
        "WHEN 'is_active' THEN (CASE WHEN t.is_active THEN '是' ELSE '否' END) <> c.new_value",
    ]
    return f"(CASE c.field {' '.join(branches)} ELSE FALSE END)"


def _current_sql() -> str:
    """The staff's current value of ``u.field``, as the history shows it."""
    branches = [f"WHEN '{f}' THEN t.{f}" for f in TEXT_FIELDS]
    branches += [
        f"WHEN 'unit' THEN (SELECT x.code || ' ' || x.name FROM {UNIT} x WHERE x.id = t.unit_id)",
        "WHEN 'id_number' THEN t.id_number_masked",
        "WHEN 'is_head' THEN (CASE WHEN t.is_head THEN '是' ELSE '否' END)",
        "WHEN 'is_active' THEN (CASE WHEN t.is_active THEN '是' ELSE '否' END)",
    ]
    return f"(CASE u.field {' '.join(branches)} ELSE '' END)"


@dataclass
class UndoCounts:
    updated: int = 0
    reactivated: int = 0
    deactivated: int = 0
    changes: int = 0


class UndoPlan:
    """Temporary tables, alive for one transaction: every change of the target with its
    conflict flag (``PLAN``), then one row per person to put back (``PIVOT``)."""

    def __init__(self, *, target: RosterSync, today: dt.date) -> None:
        self.target = target
        self.today = today

    def create(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {PLAN}")
            cursor.execute(f"DROP TABLE IF EXISTS {PIVOT}")
            cursor.execute(
                f"""{_temp(PLAN)} AS
                    SELECT c.staff_id AS staff_id, c.field AS field, c.old_value AS old_value,
                           c.new_value AS new_value, c.old_ref AS old_ref, c.new_ref AS new_ref,
                           c.old_sealed AS old_sealed, {_conflict_sql()} AS conflict
                      FROM {CHANGE} c JOIN {STAFF} t ON t.id = c.staff_id
                     WHERE c.sync_id = %s AND c.field IN ({', '.join(['%s'] * len(FIELDS))})
                    UNION ALL
                    SELECT t.id, 'is_active', '否', '是', %s, '', '', NOT t.is_active
                      FROM {STAFF} t WHERE t.created_by_sync_id = %s""",
                [self.target.pk, *FIELDS, self.today.isoformat(), self.target.pk],
            )
            if not _is_postgres():
                cursor.execute(f"CREATE INDEX {PLAN}_staff ON {PLAN} (staff_id)")
            cursor.execute(f"ANALYZE {PLAN}")

    def counts(self) -> UndoCounts:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT COALESCE(SUM(CASE WHEN up = 0 AND down = 0 AND other = 1 THEN 1 ELSE 0 END), 0),
                           COALESCE(SUM(up), 0), COALESCE(SUM(down), 0), COALESCE(SUM(n), 0)
                      FROM (SELECT staff_id,
                                   MAX(CASE WHEN field = 'is_active' AND old_value = '是' THEN 1 ELSE 0 END) AS up,
                                   MAX(CASE WHEN field = 'is_active' AND old_value = '否' THEN 1 ELSE 0 END) AS down,
                                   MAX(CASE WHEN field <> 'is_active' THEN 1 ELSE 0 END) AS other,
                                   COUNT(*) AS n
                              FROM {PLAN} WHERE NOT conflict GROUP BY staff_id) p"""
            )
            updated, reactivated, deactivated, changes = cursor.fetchone()
        return UndoCounts(int(updated), int(reactivated), int(deactivated), int(changes))

    def conflicts(self) -> tuple[int, list[dict[str, str]]]:
        """How many changes conflict, and each as ``{staff_no, field, synced_value,
        current_value}``, personal values masked."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT t.staff_no, u.field, u.new_value, {_current_sql()}
                      FROM {PLAN} u JOIN {STAFF} t ON t.id = u.staff_id
                     WHERE u.conflict ORDER BY t.staff_no, u.field"""
            )
            rows = cursor.fetchall()
        listed = []
        for staff_no, name, synced, current in rows:
            mask = MASKED.get(name)
            listed.append({
                "staff_no": staff_no,
                "field": name,
                "synced_value": mask(synced or "") if mask else (synced or ""),
                "current_value": mask(current or "") if mask else (current or ""),
            })
        return len(rows), listed

    def apply(self, *, sync: RosterSync, now: dt.datetime) -> None:
        """Write the undo's own history (from the current values, before they change), then
        put every non-conflicting change back in one UPDATE of the staff table."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {CHANGE} (staff_id, sync_id, kind, field, old_value, new_value, changed_at,
                                          old_ref, new_ref, old_sealed, new_sealed)
                    SELECT u.staff_id, %s,
                           CASE WHEN u.field = 'unit' THEN 'moved'
                                WHEN u.field = 'is_active' THEN
                                     (CASE WHEN u.old_value = '是' THEN 'reactivated' ELSE 'deactivated' END)
                                ELSE 'updated' END,
                           u.field, u.new_value, u.old_value, %s,
                           CASE WHEN u.field = 'is_active' THEN COALESCE(CAST(t.left_on AS TEXT), '') ELSE u.new_ref END,
                           u.old_ref,
                           CASE WHEN u.field = 'id_number' THEN t.id_number_cipher ELSE '' END,
                           u.old_sealed
                      FROM {PLAN} u JOIN {STAFF} t ON t.id = u.staff_id
                     WHERE NOT u.conflict""",
                [sync.pk, now],
            )
            pivot = []
            for f in FIELDS:
                pivot.append(f"MAX(CASE WHEN field = '{f}' THEN 1 ELSE 0 END) AS has_{f}")
                pivot.append(f"MAX(CASE WHEN field = '{f}' THEN old_value END) AS v_{f}")
            pivot.append("MAX(CASE WHEN field = 'unit' THEN old_ref END) AS r_unit")
            pivot.append("MAX(CASE WHEN field = 'id_number' THEN old_ref END) AS r_id_number")
            pivot.append("MAX(CASE WHEN field = 'id_number' THEN old_sealed END) AS s_id_number")
            pivot.append("MAX(CASE WHEN field = 'is_active' THEN old_ref END) AS r_is_active")
            cursor.execute(
                f"""{_temp(PIVOT)} AS SELECT staff_id, {', '.join(pivot)}
                      FROM {PLAN} WHERE NOT conflict GROUP BY staff_id"""
            )

            def keep(column: str, has: str, value: str) -> str:
                return f"{column} = CASE WHEN p.has_{has} = 1 THEN {value} ELSE {STAFF}.{column} END"

            left_on = "CAST(NULLIF(p.r_is_active, '') AS date)" if _is_postgres() else "NULLIF(p.r_is_active, '')"
            assignments = [keep(f, f, f"p.v_{f}") for f in TEXT_FIELDS]
            assignments += [
                keep("unit_id", "unit", "CAST(p.r_unit AS bigint)"),
                keep("id_number_hash", "id_number", "p.r_id_number"),
                keep("id_number_cipher", "id_number", "p.s_id_number"),
                keep("id_number_masked", "id_number", "p.v_id_number"),
                keep("is_head", "is_head", "(p.v_is_head = '是')"),
                keep("is_active", "is_active", "(p.v_is_active = '是')"),
                keep("left_on", "is_active", left_on),
                "updated_at = %s",
            ]
            cursor.execute(
                f"UPDATE {STAFF} SET {', '.join(assignments)} FROM {PIVOT} p WHERE {STAFF}.id = p.staff_id", [now]
            )

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {PLAN}")
            cursor.execute(f"DROP TABLE IF EXISTS {PIVOT}")


# --- the record and its run ---------------------------------------------------------------


def roster_undo_create(*, target: RosterSync, dry_run: bool = False, skip_conflicts: bool = False,
                       source: str = SyncSource.CLI, started_by: Any = None) -> RosterSync:
    """Record an undo of ``target``; raises ``DomainError`` when it cannot be undone."""
    refusal = roster_undo_refusal(target=target)
    if refusal is not None:
        raise refusal
    return RosterSync.objects.create(
        kind=SyncKind.UNDO,
        undoes=target,
        file_name=f"撤销 #{target.pk}：{target.file_name}"[:255],
        sha256="",
        mode=target.mode,
        dry_run=dry_run,
        skip_conflicts=skip_conflicts,
        source=source,
        started_by=started_by if getattr(started_by, "pk", None) else None,
        root=target.root,  # a scoped office's sync is undone within the same subtree
    )


def roster_undo_submit(*, target: RosterSync, dry_run: bool = False, skip_conflicts: bool = False,
                       source: str, started_by: Any = None) -> RosterSync:
    """The API's and the web's path: record the undo and queue it for a worker once this
    commits (the record answers 202). Conflicts are found now, without the lock: when there
    are some and ``skip_conflicts`` is off the record is stored refused at once (the API's
    409). The worker checks again under the lock."""
    with transaction.atomic():
        sync = roster_undo_create(target=target, dry_run=dry_run, skip_conflicts=skip_conflicts, source=source,
                                  started_by=started_by)
        if not skip_conflicts:
            plan = UndoPlan(target=target, today=timezone.localdate())
            plan.create()
            count, conflicts = plan.conflicts()
            plan.drop()
            if count:
                RosterSync.objects.filter(pk=sync.pk).update(
                    status=JobStatus.REFUSED, finished_at=timezone.now(), message=_conflict_message(target, count),
                    preview={"conflicts": conflicts[:CONFLICTS_KEPT], "conflict_count": count, "skipped": 0},
                )
                sync.refresh_from_db()
                return sync
        job_enqueue(kind=UNDO_JOB, pk=sync.pk)
    return sync


def roster_undo(*, sync: RosterSync) -> UndoResult:
    """Run a recorded undo (the command line and the worker)."""
    conflicts: list[dict[str, str]] = []

    def work(job: RosterSync) -> None:
        conflicts[:] = _run(job)

    sync = job_run(job=sync, work=work,
                   failed="撤销失败：发生内部错误，名册未作任何改动。", failed_fields={"applied": False})
    return UndoResult.of(sync, conflicts=conflicts or None)


def roster_undo_now(*, target: RosterSync, dry_run: bool = False, skip_conflicts: bool = False,
                    source: str = SyncSource.CLI, started_by: Any = None) -> UndoResult:
    """Undo ``target`` now, in this process (the command line's path)."""
    sync = roster_undo_create(target=target, dry_run=dry_run, skip_conflicts=skip_conflicts, source=source,
                              started_by=started_by)
    return roster_undo(sync=sync)


OUTCOME = ("applied", "errors", "rows", "preview", "updated", "reactivated", "deactivated")


def _finish(sync: RosterSync, *, status: str, applied: bool, message: str) -> None:
    sync.status = status
    sync.applied = applied
    sync.message = message
    job_finish(job=sync, fields=OUTCOME)


def _conflict_message(target: RosterSync, count: int) -> str:
    return (
        f"撤销被拒绝：同步 #{target.pk} 改动的 {count} 处字段此后又被修改（冲突），名册未作任何改动。"
        "请核对冲突；如确需撤销其余改动，请选择跳过冲突（--skip-conflicts）。"
    )


def _summary(sync: RosterSync, *, skipped: int) -> str:
    head = "试运行：未作任何改动。将" if sync.dry_run else "撤销完成："
    tail = f"，跳过冲突 {skipped} 处" if skipped else ""
    return (f"{head}还原 {sync.updated} 人的字段，恢复在册 {sync.reactivated} 人，"
            f"停用 {sync.deactivated} 人{tail}。")


def _run(sync: RosterSync) -> list[dict[str, str]]:
    target = RosterSync.objects.get(pk=sync.undoes_id)
    now = timezone.now()
    plan = UndoPlan(target=target, today=timezone.localdate(now))
    listed: list[dict[str, str]] = []
    try:
        with transaction.atomic():
            roster_lock(wait=settings.ROSTER_LOCK_JOB_WAIT_SECONDS)
            job_fence(job=sync)
            target.refresh_from_db()
            refusal = roster_undo_refusal(target=target, excluding=sync.pk)
            if refusal is not None:
                _finish(sync, status=JobStatus.REFUSED, applied=False, message=refusal.message)
                return []
            plan.create()
            count, listed = plan.conflicts()
            counts = plan.counts()
            sync.updated, sync.reactivated, sync.deactivated = counts.updated, counts.reactivated, counts.deactivated
            sync.rows = counts.changes + count
            skipped = count if sync.skip_conflicts else 0
            sync.preview = {"conflicts": listed[:CONFLICTS_KEPT], "conflict_count": count, "skipped": skipped}
            if count and not sync.skip_conflicts:
                plan.drop()
                sync.updated = sync.reactivated = sync.deactivated = 0
                _finish(sync, status=JobStatus.REFUSED, applied=False, message=_conflict_message(target, count))
                return listed
            if sync.dry_run:
                plan.drop()
                _finish(sync, status=JobStatus.SUCCEEDED, applied=False, message=_summary(sync, skipped=skipped))
                return listed
            plan.apply(sync=sync, now=now)
            plan.drop()
            audit_record(
                user=sync.started_by, username=command_username() if sync.source == SyncSource.CLI else "system",
                action=AuditAction.UNDO_SYNC,
                target=f"roster_sync:{target.pk}", reason=f"撤销 #{sync.pk}", rows=counts.changes,
            )
            figures_changed(kind=ROSTER)
            _finish(sync, status=JobStatus.SUCCEEDED, applied=True, message=_summary(sync, skipped=skipped))
            return listed
    except IntegrityError:
        plan.drop()
        logger.warning("roster undo %s hit a uniqueness conflict", sync.pk)
        sync.updated = sync.reactivated = sync.deactivated = 0
        _finish(sync, status=JobStatus.REFUSED, applied=False,
                message="撤销被拒绝：要还原的身份证号现已属于其他人员，名册未作任何改动。")
        return listed
