"""The roster sync: HR's file against the stored roster, checked whole, then applied set-based
in one transaction, with the mass-deactivation guard."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.errors import DomainError, Problem
from config.events import ROSTER, figures_changed
from config.jobs import FINISHED, JobStatus, job_enqueue, job_fence, job_finish, job_progress, job_run
from sheets.reader import SheetError, read_table
from sheets.services import DRY_RUN_KEEP, upload_delete_on_commit

from .columns import ROSTER_SCHEMA
from .keyrotation import rehash_pending
from .locks import roster_lock
from .models import RosterSync, SyncMode, SyncSource
from .roster_rows import prepare_roster
from .staging import RosterStage
from .units import unit_lookup

logger = logging.getLogger(__name__)



@dataclass
class RosterSyncResult:
    sync_id: int | None
    status: str
    applied: bool
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    reactivated: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    message: str = ""

    @classmethod
    def of(cls, sync: RosterSync) -> RosterSyncResult:
        return cls(
            sync_id=sync.pk,
            status=sync.status,
            applied=sync.applied,
            dry_run=sync.dry_run,
            errors=list(sync.errors),
            warnings=list(sync.warnings),
            message=sync.message,
            **sync.counts(),
        )

    @classmethod
    def refused_before_start(cls, *, error: DomainError, dry_run: bool) -> RosterSyncResult:
        """The result for a file that never became a sync (missing, or over the size cap): the
        same keys as any other, with the reason as a whole-file error (``row: null``)."""
        problems = error.problems or [Problem(None, None, None, error.message)]
        return cls(sync_id=None, status=JobStatus.REFUSED, applied=False, dry_run=dry_run,
                   errors=[p.as_dict() for p in problems], message=error.message)

    @property
    def ok(self) -> bool:
        """What the exit status reflects: applied, or a dry run that found nothing wrong."""
        return self.applied or (self.dry_run and self.status == JobStatus.SUCCEEDED)

    @property
    def unreadable(self) -> bool:
        """Refused before a single row was counted: the file itself could not be read (empty,
        not CSV or XLSX, no header, a missing column, a size or zip guard). A refusal by the
        mass-deactivation guard or for row errors is not this: its rows were counted."""
        counted = (self.created + self.updated + self.unchanged + self.deactivated + self.reactivated
                   + self.rejected)
        return (not self.ok and self.status == JobStatus.REFUSED and bool(self.errors) and not counted
                and all(e["row"] is None for e in self.errors))

    def as_dict(self) -> dict[str, Any]:
        return {
            "sync_id": self.sync_id,
            "status": self.status,
            "dry_run": self.dry_run,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deactivated": self.deactivated,
            "reactivated": self.reactivated,
            "rejected": self.rejected,
            "applied": self.applied,
            "errors": self.errors,
            "warnings": self.warnings,
            "message": self.message,
        }


def roster_sync_create(
    *,
    file: bytes | BinaryIO,
    file_name: str,
    mode: str = SyncMode.FULL,
    dry_run: bool = False,
    skip_invalid: bool = False,
    allow_mass_deactivation: bool = False,
    source: str = SyncSource.CLI,
    started_by: Any = None,
    root: Any = None,
) -> RosterSync:
    """Record a sync request and keep its file until the sync has run. ``root``: the unit of a
    scoped hr office (``Scope.write_root``, set by the API or the page; the command line is
    unscoped): every row must lie in its subtree, and a full sync deactivates only there."""
    data = file if isinstance(file, bytes) else file.read(settings.SHEETS_MAX_BYTES + 1)
    if mode not in SyncMode.values:
        raise DomainError(f"同步模式应为 full 或 partial，而不是“{mode}”。")
    sync = RosterSync(
        file_name=Path(file_name).name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        mode=mode,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        allow_mass_deactivation=allow_mass_deactivation,
        source=source,
        started_by=started_by if getattr(started_by, "pk", None) else None,
        root=root,
    )
    sync.source_file.save(f"{sync.sha256[:16]}{Path(file_name).suffix.lower()[:8]}", ContentFile(data), save=False)
    sync.save()
    return sync


def roster_sync_submit(
    *,
    file: bytes | BinaryIO,
    file_name: str,
    source: str,
    started_by: Any = None,
    mode: str = SyncMode.FULL,
    dry_run: bool = False,
    skip_invalid: bool = False,
    allow_mass_deactivation: bool = False,
    root: Any = None,
) -> RosterSync:
    """Store the sync record and its file, then enqueue the work once that has committed.
    With the broker down the record stays queued and the sweeper sends it later."""
    with transaction.atomic():
        sync = roster_sync_create(
            file=file,
            file_name=file_name,
            mode=mode,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            allow_mass_deactivation=allow_mass_deactivation,
            source=source,
            started_by=started_by,
            root=root,
        )
        roster_sync_enqueue(sync=sync)
    return sync


def roster_sync_enqueue(*, sync: RosterSync) -> None:
    job_enqueue(kind="roster_sync", pk=sync.pk)


def roster_sync(*, sync: RosterSync) -> RosterSyncResult:
    """Run a recorded sync: read its file, check every row, then apply in one transaction."""
    sync = job_run(job=sync, work=_run, failed="同步失败：发生内部错误，名册未作任何改动。",
                   failed_fields={"applied": False})
    _discard_file(sync)
    return RosterSyncResult.of(sync)


def _awaits_confirmation(sync: RosterSync) -> bool:
    """A dry run from a web page that passed keeps its file: the page's confirm step syncs
    that very file (``roster_sync_confirm``). Files nobody confirms go after a day."""
    return (sync.dry_run and sync.source == SyncSource.WEB and sync.status == JobStatus.SUCCEEDED
            and _would_change(sync))


def _would_change(sync: RosterSync) -> bool:
    # a file identical to the roster has nothing to confirm (and keeps no file)
    return bool(sync.created or sync.updated or sync.deactivated or sync.reactivated)


def _discard_file(sync: RosterSync) -> None:
    if sync.is_finished and sync.source_file and not _awaits_confirmation(sync):
        sync.source_file.delete(save=False)
        RosterSync.objects.filter(pk=sync.pk).update(source_file="")


def roster_sync_confirm_refusal(*, sync: RosterSync, now: dt.datetime | None = None) -> str:
    """Why this sync cannot be confirmed ("" when it can): only a web dry run that passed,
    still holding its file, less than a day old."""
    if not sync.dry_run or sync.source != SyncSource.WEB:
        return "只能确认网页上传的试运行。"
    if not sync.is_finished:
        return "试运行尚未完成。"
    if sync.status != JobStatus.SUCCEEDED:
        return "试运行未通过，不能确认：请改正文件后重新上传。"
    if not _would_change(sync):
        return "名册与在册信息一致，没有需要同步的变化，无需确认。"
    if not sync.source_file or sync.created_at < (now or timezone.now()) - DRY_RUN_KEEP:
        return "该试运行已确认过或已超过一天，请重新上传文件。"
    return ""


def roster_sync_confirm(*, dry_run_sync: RosterSync, started_by: Any = None, now: dt.datetime | None = None) -> RosterSync:
    """Apply what a web dry run checked: a new sync (not a dry run) of the very same file with
    the same options, queued for a worker once this commits. The dry run gives its file up,
    so it can be confirmed once; a dry run that was refused, or is more than a day old,
    cannot be confirmed."""
    with transaction.atomic():
        dry = RosterSync.objects.select_for_update().filter(pk=dry_run_sync.pk).first()
        refusal = roster_sync_confirm_refusal(sync=dry, now=now) if dry is not None else "试运行不存在。"
        if refusal:
            raise DomainError(refusal)
        try:
            with dry.source_file.open("rb") as handle:
                data = handle.read()
        except (FileNotFoundError, ValueError):
            raise DomainError("试运行的文件已不存在，请重新上传。")
        sync = roster_sync_create(
            file=data,
            file_name=dry.file_name,
            mode=dry.mode,
            dry_run=False,
            skip_invalid=dry.skip_invalid,
            allow_mass_deactivation=dry.allow_mass_deactivation,
            source=SyncSource.WEB,
            started_by=started_by,
            root=dry.root,
        )
        upload_delete_on_commit(file=dry.source_file)
        RosterSync.objects.filter(pk=dry.pk).update(source_file="")
        roster_sync_enqueue(sync=sync)
    return sync


def roster_sync_discard_stale_files(*, now: dt.datetime | None = None) -> int:
    """Delete the files finished syncs still hold: web dry runs nobody confirmed within a
    day. Returns how many files went. Run by Celery beat."""
    cutoff = (now or timezone.now()) - DRY_RUN_KEEP
    stale = list(
        RosterSync.objects.filter(status__in=FINISHED, created_at__lt=cutoff)
        .exclude(source_file="")
        .exclude(source_file__isnull=True)
        .only("pk", "source_file")
    )
    for sync in stale:
        sync.source_file.delete(save=False)
    RosterSync.objects.filter(pk__in=[s.pk for s in stale]).update(source_file="")
    return len(stale)


# what a sync's run writes on its record; the rest (options, file, claim) is not its to write
OUTCOME = ("applied", "errors", "warnings", "rows", "preview", "created", "updated", "unchanged", "deactivated",
           "reactivated", "rejected")


def _finish(sync: RosterSync, *, status: str, applied: bool, message: str, problems: list[Problem]) -> None:
    sync.status = status
    sync.applied = applied
    sync.message = message
    sync.errors = [p.as_dict() for p in problems]
    job_finish(job=sync, fields=OUTCOME)


def _run(sync: RosterSync) -> None:
    try:
        with sync.source_file.open("rb") as handle:
            table = read_table(handle.read(), filename=sync.file_name, schema=ROSTER_SCHEMA)
    except SheetError as exc:
        _finish(sync, status=JobStatus.REFUSED, applied=False, message=exc.message, problems=exc.problems)
        return
    except (FileNotFoundError, ValueError):
        _finish(sync, status=JobStatus.FAILED, applied=False, message="同步文件已不存在，请重新上传。", problems=[])
        return
    sync.rows = len(table.rows)
    job_progress(job=sync, done=0, total=len(table.rows))

    root = sync.root
    prepared = prepare_roster(table, unit_lookup(root=root))
    # the rows live on as the prepared records; at a province's million rows the table's own
    # copy is some 200 MB of the sync's peak memory
    rows = len(table.rows)
    table.rows.clear()
    sync.warnings = [*table.warnings, *prepared.warnings]
    job_progress(job=sync, done=rows // 2)
    problems = list(prepared.problems)
    full = sync.mode == SyncMode.FULL
    stage = RosterStage(present_fields=prepared.present_fields, full=full, root=root)
    now = timezone.now()
    today = timezone.localdate(now)
    try:
        with transaction.atomic():
            roster_lock(wait=settings.ROSTER_LOCK_JOB_WAIT_SECONDS)
            # fencing: a run paused past its lease and taken over stops here, unapplied
            job_fence(job=sync)
            # during a rotation of the hash key, rows still under the older digest are re-hashed
            # first, so matching by ID number sees every row under the key the file was hashed with
            rehash_pending()
            stage.create(prepared.records)
            prepared.records.clear()  # staged: the stage holds them now
            stage.plan()
            conflicts = stage.id_conflicts()
            for row_no, other_staff_no, other_active in conflicts:
                problems.append(
                    Problem(
                        row_no,
                        table.label("id_number"),
                        None,
                        f"该身份证号已属于工号 {other_staff_no} 的人员（{'在册' if other_active else '已离册'}），不能再分配给本行工号。",
                    )
                )
                prepared.rejected_rows.add(row_no)
            stage.reject_rows([row_no for row_no, _, _ in conflicts])
            # a scoped sync may not take a person from outside its subtree
            outsiders = stage.outsiders()
            for row_no in outsiders:
                problems.append(Problem(row_no, table.label("staff_no"), None,
                                        "该工号的人员属于您负责范围以外的单位，本行不能同步。"))
                prepared.rejected_rows.add(row_no)
            stage.reject_rows(outsiders)
            problems.sort(key=lambda p: p.row or 0)
            counts = stage.classify()
            sync.created, sync.updated, sync.unchanged = counts.created, counts.updated, counts.unchanged
            sync.reactivated, sync.deactivated = counts.reactivated, counts.deactivated
            sync.rejected = len(prepared.rejected_rows)

            refusal = _refusal(sync, problems, counts.deactivated, counts.active_before, valid=rows - sync.rejected)
            if refusal or sync.dry_run:
                # the preview feeds the "check, then confirm" screens; an applied sync has its history
                sync.preview = stage.preview()
                stage.store_changes(sync=sync, id_numbers=prepared.id_numbers)
            if refusal:
                if not problems or sync.skip_invalid:
                    problems.append(Problem(None, None, None, refusal))
                stage.drop()
                _finish(sync, status=JobStatus.REFUSED, applied=False, message=refusal, problems=problems)
                return
            if sync.dry_run:
                stage.drop()
                _finish(sync, status=JobStatus.SUCCEEDED, applied=False, message="试运行：未作任何改动。", problems=problems)
                return
            stage.seal(prepared.id_numbers)
            stage.apply(sync=sync, now=now, today=today)
            stage.drop()
            figures_changed(kind=ROSTER)
            _finish(sync, status=JobStatus.SUCCEEDED, applied=True, message=_summary(sync), problems=problems)
    except IntegrityError:
        stage.drop()
        logger.warning("roster sync %s hit a uniqueness conflict", sync.pk)
        _finish(
            sync,
            status=JobStatus.REFUSED,
            applied=False,
            message="同步被拒绝：文件中的身份证号与其他人员冲突（例如两人的身份证号互换），名册未作任何改动。请分两次同步。",
            problems=problems,
        )


def _refusal(sync: RosterSync, problems: list[Problem], deactivated: int, active_before: int, *, valid: int) -> str:
    if problems and not sync.skip_invalid:
        return f"同步被拒绝：{sync.rejected} 行有错误，名册未作任何改动。请改正后重新上传，或选择跳过错误行。"
    if problems and valid <= 0:
        return "同步被拒绝：所有行都有错误，没有可应用的数据。"
    ratio = settings.ROSTER_MASS_DEACTIVATION_RATIO
    if deactivated and deactivated > ratio * active_before and not sync.allow_mass_deactivation:
        share = deactivated / active_before if active_before else 1
        return (
            f"同步被拒绝：本次将停用 {deactivated} 人，占在册人员的 {share:.1%}，超过 {ratio:.0%} 的保护上限。"
            "文件可能不完整或选错了文件；如确需停用，请加上“允许大批停用”（--allow-mass-deactivation）。"
        )
    return ""


def _summary(sync: RosterSync) -> str:
    return (
        f"同步完成：新增 {sync.created}，更新 {sync.updated}，未变 {sync.unchanged}，"
        f"停用 {sync.deactivated}，恢复 {sync.reactivated}，拒绝 {sync.rejected} 行。"
    )


def roster_sync_file(
    *,
    path: str | Path,
    mode: str = SyncMode.FULL,
    dry_run: bool = False,
    skip_invalid: bool = False,
    allow_mass_deactivation: bool = False,
    source: str = SyncSource.CLI,
    started_by: Any = None,
) -> RosterSyncResult:
    """Sync a file on disk now, in this process (the command line's path)."""
    path = Path(path)
    if not path.is_file():
        raise DomainError(f"文件不存在：{path}")
    if path.stat().st_size > settings.SHEETS_MAX_BYTES:
        raise DomainError(f"文件超过大小上限（{settings.SHEETS_MAX_BYTES // (1024 * 1024)} MB）。", code="unreadable")
    sync = roster_sync_create(
        file=path.read_bytes(),
        file_name=path.name,
        mode=mode,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        allow_mass_deactivation=allow_mass_deactivation,
        source=source,
        started_by=started_by,
    )
    return roster_sync(sync=sync)
