"""Writes for units, staff and roster syncs. The CLI, API, web pages, admin and Celery tasks
all call these functions."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config.errors import DomainError, Problem
from config.events import ROSTER, figures_changed
from config.jobs import FINISHED, JobStatus, job_claim, job_progress
from sheets.reader import SheetError, read_table
from sheets.services import DRY_RUN_KEEP, upload_delete_on_commit

from .columns import ROSTER_SCHEMA, UNIT_SCHEMA
from .models import RosterSync, Staff, SyncMode, SyncSource, Unit, UnitKind
from .roster_rows import UnitLookup, prepare_roster
from .staging import RosterStage

logger = logging.getLogger(__name__)

ROSTER_LOCK_ID = 7_340_001


# --- units ------------------------------------------------------------------------------

KIND_WORDS = {
    **{k.value: k.value for k in UnitKind},
    **{str(k.label): k.value for k in UnitKind},
    "行政": UnitKind.ADMIN,
    "机关": UnitKind.ADMIN,
    "区": UnitKind.ADMIN,
    "街道": UnitKind.TOWN,
    "乡镇": UnitKind.TOWN,
    "教育": UnitKind.EDUCATION,
    "教育局": UnitKind.EDUCATION,
}


@dataclass
class UnitImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[Problem] = field(default_factory=list)
    applied: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "applied": self.applied,
            "errors": [p.as_dict() for p in self.errors],
        }


def unit_import(*, data: bytes, filename: str) -> UnitImportResult:
    """Create or update units by code from a units file. All or nothing."""
    result = UnitImportResult()
    try:
        table = read_table(data, filename=filename, schema=UNIT_SCHEMA)
    except SheetError as exc:
        result.errors = exc.problems
        return result

    existing = {u.code: u for u in Unit.objects.all()}
    wanted: dict[str, dict[str, Any]] = {}
    for row in table.rows:
        code = table.value(row, "code").upper()
        name = table.value(row, "name")
        parent_code = table.value(row, "parent_code").upper()
        kind_text = table.value(row, "kind")
        order_text = table.value(row, "sort_order")
        problems_before = len(result.errors)
        if not code:
            result.errors.append(Problem(row.number, table.label("code"), "", "单位代码为空。"))
        elif code in wanted:
            result.errors.append(Problem(row.number, table.label("code"), code, "单位代码重复。"))
        if not name:
            result.errors.append(Problem(row.number, table.label("name"), "", "单位名称为空。"))
        kind = KIND_WORDS.get(kind_text.lower() if kind_text.isascii() else kind_text) if kind_text else UnitKind.OTHER
        if kind is None:
            result.errors.append(
                Problem(row.number, table.label("kind"), kind_text, "单位类型应为 admin/department/town/education/school/other 或对应中文。")
            )
        sort_order = 0
        if order_text:
            try:
                sort_order = int(float(order_text))
            except ValueError:
                result.errors.append(Problem(row.number, table.label("sort_order"), order_text, "排序应为整数。"))
        if len(result.errors) == problems_before:
            wanted[code] = {"row": row.number, "name": name, "parent_code": parent_code, "kind": kind, "sort_order": sort_order}

    known_codes = set(existing) | set(wanted)
    for code, spec in wanted.items():
        parent_code = spec["parent_code"]
        if parent_code and parent_code not in known_codes:
            result.errors.append(Problem(spec["row"], table.label("parent_code"), parent_code, "上级单位代码不存在。"))
        if parent_code == code:
            result.errors.append(Problem(spec["row"], table.label("parent_code"), parent_code, "上级单位不能是自己。"))
    if not result.errors:
        cycle = _find_cycle(existing, wanted)
        if cycle:
            result.errors.append(
                Problem(wanted[cycle[0]]["row"], table.label("parent_code"), cycle[0], f"上级关系形成循环：{' → '.join(cycle)}。")
            )
    if result.errors:
        result.errors.sort(key=lambda p: p.row or 0)
        return result

    with transaction.atomic():
        to_create = [
            Unit(code=code, name=spec["name"], kind=spec["kind"], sort_order=spec["sort_order"])
            for code, spec in wanted.items()
            if code not in existing
        ]
        Unit.objects.bulk_create(to_create)
        by_code = {u.code: u for u in Unit.objects.all()}
        changed: list[Unit] = []
        for code, spec in wanted.items():
            unit = by_code[code]
            parent_id = by_code[spec["parent_code"]].pk if spec["parent_code"] else None
            values = {"name": spec["name"], "kind": spec["kind"], "sort_order": spec["sort_order"], "parent_id": parent_id}
            if any(getattr(unit, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(unit, k, v)
                changed.append(unit)
                if code in existing:
                    result.updated += 1
            elif code in existing:
                result.unchanged += 1
        result.created = len(to_create)
        Unit.objects.bulk_update(changed, ["name", "kind", "sort_order", "parent_id"])
        units_rebuild_paths()
    result.applied = True
    return result


def unit_parent_check(*, unit: Unit, parent: Unit | None) -> None:
    """A unit's parent may not be the unit itself or one of its own sub-units: the tree would
    become a loop. For forms that save a unit themselves (the admin); raises DomainError."""
    if parent is None or unit.pk is None:
        return
    if parent.pk == unit.pk or parent.path.startswith(unit.path):
        raise DomainError(f"上级单位不能是“{unit.name}”本身或它的下级单位，否则单位树会成环。")


def _find_cycle(existing: dict[str, Unit], wanted: dict[str, dict[str, Any]]) -> list[str] | None:
    id_to_code = {u.pk: c for c, u in existing.items()}
    parent_of = {c: id_to_code.get(u.parent_id) for c, u in existing.items()}
    parent_of.update({c: (spec["parent_code"] or None) for c, spec in wanted.items()})
    for start in wanted:
        seen = [start]
        node = parent_of.get(start)
        while node is not None:
            if node in seen:
                return seen[seen.index(node) :] + [node]
            seen.append(node)
            node = parent_of.get(node)
    return None


def units_rebuild_paths() -> int:
    """Recompute every unit's path and depth from the parent links: one read, one bulk write."""
    units = list(Unit.objects.only("id", "parent_id", "path", "depth"))
    parent_of = {u.pk: u.parent_id for u in units}
    paths: dict[int, str] = {}

    def path_of(pk: int) -> str:
        if pk not in paths:
            parent = parent_of[pk]
            paths[pk] = (path_of(parent) if parent else "/") + f"{pk}/"
        return paths[pk]

    changed = []
    for unit in units:
        path = path_of(unit.pk)
        depth = path.count("/") - 2
        if unit.path != path or unit.depth != depth:
            unit.path, unit.depth = path, depth
            changed.append(unit)
    Unit.objects.bulk_update(changed, ["path", "depth"], batch_size=1000)
    return len(changed)


def unit_lookup() -> UnitLookup:
    by_code: dict[str, int] = {}
    by_name: dict[str, int | None] = {}
    inactive: set[int] = set()
    for pk, code, name, active in Unit.objects.values_list("id", "code", "name", "is_active"):
        by_code[code] = pk
        by_name[name] = None if name in by_name else pk
        if not active:
            inactive.add(pk)
    return UnitLookup(by_code=by_code, by_name=by_name, inactive=inactive)


# --- roster sync ------------------------------------------------------------------------


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
) -> RosterSync:
    """Record a sync request and keep its file until the sync has run."""
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
        )
        roster_sync_enqueue(sync=sync)
    return sync


def roster_sync_enqueue(*, sync: RosterSync) -> None:
    from .tasks import sync_roster

    transaction.on_commit(lambda: _publish(sync_roster, sync.pk))


def _publish(task: Any, pk: int) -> None:
    """Send the task; when the broker is down the record stays queued for the sweeper."""
    try:
        task.delay(pk)
    except Exception:  # the broker being down must not fail the request that queued the work
        logger.warning("could not publish %s for record %s; it stays queued", task.name, pk)


def roster_sync(*, sync: RosterSync) -> RosterSyncResult:
    """Run a recorded sync: read its file, check every row, then apply in one transaction."""
    if not job_claim(model=RosterSync, pk=sync.pk):
        # finished already, or running elsewhere under a live lease
        sync.refresh_from_db()
        return RosterSyncResult.of(sync)
    sync.refresh_from_db()
    try:
        _run(sync)
    except Exception:
        logger.exception("roster sync %s failed", sync.pk)
        RosterSync.objects.filter(pk=sync.pk).update(
            status=JobStatus.FAILED,
            finished_at=timezone.now(),
            applied=False,
            message="同步失败：发生内部错误，名册未作任何改动。",
        )
        sync.refresh_from_db()
    _discard_file(sync)
    return RosterSyncResult.of(sync)


def _awaits_confirmation(sync: RosterSync) -> bool:
    """A dry run from a web page that passed keeps its file: the page's confirm step syncs
    that very file (``roster_sync_confirm``). Files nobody confirms go after a day."""
    return sync.dry_run and sync.source == SyncSource.WEB and sync.status == JobStatus.SUCCEEDED


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


def _finish(sync: RosterSync, *, status: str, applied: bool, message: str, problems: list[Problem]) -> None:
    sync.status = status
    sync.applied = applied
    sync.message = message
    sync.errors = [p.as_dict() for p in problems]
    sync.finished_at = timezone.now()
    sync.progress_done = sync.progress_total
    sync.save()


def _run(sync: RosterSync) -> None:
    try:
        with sync.source_file.open("rb") as handle:
            data = handle.read()
        table = read_table(data, filename=sync.file_name, schema=ROSTER_SCHEMA)
    except SheetError as exc:
        _finish(sync, status=JobStatus.REFUSED, applied=False, message=exc.message, problems=exc.problems)
        return
    except (FileNotFoundError, ValueError):
        _finish(sync, status=JobStatus.FAILED, applied=False, message="同步文件已不存在，请重新上传。", problems=[])
        return
    sync.warnings = table.warnings
    sync.rows = len(table.rows)
    job_progress(job=sync, done=0, total=len(table.rows))

    prepared = prepare_roster(table, unit_lookup())
    job_progress(job=sync, done=len(table.rows) // 2)
    problems = list(prepared.problems)
    full = sync.mode == SyncMode.FULL
    stage = RosterStage(present_fields=prepared.present_fields, full=full)
    now = timezone.now()
    today = timezone.localdate(now)
    try:
        with transaction.atomic():
            _lock_roster()
            stage.create(prepared.records)
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
            problems.sort(key=lambda p: p.row or 0)
            counts = stage.classify()
            sync.created, sync.updated, sync.unchanged = counts.created, counts.updated, counts.unchanged
            sync.reactivated, sync.deactivated = counts.reactivated, counts.deactivated
            sync.rejected = len(prepared.rejected_rows)

            refusal = _refusal(sync, problems, counts.deactivated, counts.active_before, valid=len(table.rows) - sync.rejected)
            if refusal or sync.dry_run:
                # the preview feeds the "check, then confirm" screens; an applied sync has its history
                sync.preview = stage.preview()
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


def _lock_roster() -> None:
    """Serialise syncs: a second one waits here until the first commits. SQLite gets the same
    effect from its IMMEDIATE transactions."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROSTER_LOCK_ID])


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


def staff_set_id_number(*, staff: Staff, id_number: str) -> None:
    from . import idnumbers

    value = idnumbers.normalise(id_number)
    reason = idnumbers.problem(value)
    if reason:
        raise DomainError(reason)
    staff.set_id_number(value)


DROP_DIR_SUFFIXES = {".csv", ".xlsx", ".txt"}
DROP_DIR_SETTLE_SECONDS = 5


def roster_drop_dir_scan(*, directory: str | Path, settle_seconds: float = DROP_DIR_SETTLE_SECONDS) -> list[int]:
    """Queue a full sync for each file in the watched folder not seen before (by sha256).

    Files still being written (changed in the last few seconds) wait for the next scan. A
    file in a ``partial`` sub-folder is synced in partial mode."""
    import time

    from django.db.models import Q

    root = Path(directory)
    if not root.is_dir():
        logger.warning("roster drop folder %s does not exist", root)
        return []
    now = time.time()
    candidates: list[tuple[Path, str]] = []
    for sub, mode in ((root, SyncMode.FULL), (root / "partial", SyncMode.PARTIAL)):
        if not sub.is_dir():
            continue
        for path in sorted(sub.iterdir(), key=lambda p: p.stat().st_mtime):
            if path.is_file() and path.suffix.lower() in DROP_DIR_SUFFIXES and now - path.stat().st_mtime >= settle_seconds:
                candidates.append((path, mode))
    queued: list[int] = []
    digests = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path, _ in candidates}
    seen = set(
        RosterSync.objects.filter(Q(source=SyncSource.DROP_DIR), sha256__in=list(digests.values())).values_list(
            "sha256", flat=True
        )
    )
    for path, mode in candidates:
        digest = digests[path]
        if digest in seen:
            continue
        seen.add(digest)
        try:
            with transaction.atomic():
                sync = roster_sync_create(file=path.read_bytes(), file_name=path.name, mode=mode, source=SyncSource.DROP_DIR)
                roster_sync_enqueue(sync=sync)
        except IntegrityError:
            continue  # another scanner took the same file first
        queued.append(sync.pk)
    return queued


# --- one staff member at a time (the API, web pages) --------------------------------------
# Appended for the REST API. Same rules as a roster sync: history rows for every change,
# ID numbers sealed with ``set_id_number``, serialised with syncs by the roster lock.

STAFF_LABELS = {
    "staff_no": "工号",
    "name": "姓名",
    "gender": "性别",
    "id_number": "身份证号",
    "unit": "单位",
    "position": "职务",
    "category": "人员类别",
    "is_head": "是否正职",
    "enforcement_cert": "执法证号",
    "phone": "手机号",
    "is_active": "在册",
}
STAFF_EDITABLE = tuple(f for f in STAFF_LABELS if f != "staff_no")
_TEXT_LIMITS = {"staff_no": 64, "name": 100, "position": 200, "category": 100, "enforcement_cert": 64, "phone": 32}


def _staff_text_problems(field_name: str, value: str) -> list[Problem]:
    from .roster_rows import _PHONE, GENDER_WORDS

    label = STAFF_LABELS[field_name]
    if field_name in ("staff_no", "name") and not value:
        return [Problem(None, label, "", f"{label}为空。")]
    if len(value) > _TEXT_LIMITS.get(field_name, 10_000):
        return [Problem(None, label, None, f"{label}超过 {_TEXT_LIMITS[field_name]} 个字符。")]
    if field_name == "phone" and value and not _PHONE.match(value):
        from . import idnumbers

        return [Problem(None, label, idnumbers.mask_phone(value), "手机号格式不正确。")]
    if field_name == "gender" and value and value.lower() not in GENDER_WORDS:
        return [Problem(None, label, value, "性别应为“男”或“女”。")]
    return []


def _staff_id_number(value: str, *, owner_pk: int | None) -> tuple[str, list[Problem]]:
    """The normalised number, or the problems with it (invalid, or held by someone else)."""
    from . import idnumbers

    value = idnumbers.normalise(value or "")
    reason = idnumbers.problem(value)
    if reason:
        return "", [Problem(None, STAFF_LABELS["id_number"], idnumbers.mask(value), reason)]
    holder = Staff.objects.filter(id_number_hash=idnumbers.digest(value)).exclude(pk=owner_pk).first()
    if holder is not None:
        return "", [
            Problem(
                None,
                STAFF_LABELS["id_number"],
                idnumbers.mask(value),
                f"该身份证号已属于工号 {holder.staff_no} 的人员（{'在册' if holder.is_active else '已离册'}）。",
            )
        ]
    return value, []


def _unit_problems(unit: Unit) -> list[Problem]:
    if not unit.is_active:
        return [Problem(None, STAFF_LABELS["unit"], unit.code, f"单位“{unit.name}”已停用。")]
    return []


def staff_create(
    *,
    staff_no: str,
    name: str,
    id_number: str,
    unit: Unit,
    gender: str = "",
    position: str = "",
    category: str = "",
    is_head: bool = False,
    enforcement_cert: str = "",
    phone: str = "",
) -> Staff:
    """Add one staff member, with a "created" history row. All or nothing."""
    from . import idnumbers
    from .models import ChangeKind, StaffChange
    from .roster_rows import GENDER_WORDS

    texts = {
        "staff_no": staff_no.strip(), "name": name.strip(), "gender": gender.strip(), "position": position.strip(),
        "category": category.strip(), "enforcement_cert": enforcement_cert.strip(), "phone": phone.strip(),
    }
    problems: list[Problem] = []
    for field_name, value in texts.items():
        problems += _staff_text_problems(field_name, value)
    problems += _unit_problems(unit)
    now = timezone.now()
    try:
        with transaction.atomic():
            _lock_roster()
            if texts["staff_no"] and Staff.objects.filter(staff_no=texts["staff_no"]).exists():
                problems.append(Problem(None, STAFF_LABELS["staff_no"], texts["staff_no"], "工号已存在。"))
            value, id_problems = _staff_id_number(id_number, owner_pk=None)
            problems += id_problems
            if problems:
                raise DomainError("人员未能添加：请改正以下问题。", problems)
            staff = Staff(
                staff_no=texts["staff_no"],
                name=texts["name"],
                gender=GENDER_WORDS.get(texts["gender"].lower(), "") if texts["gender"] else idnumbers.gender_of(value),
                unit=unit,
                position=texts["position"],
                category=texts["category"],
                is_head=is_head,
                enforcement_cert=texts["enforcement_cert"],
                phone=texts["phone"],
                is_active=True,
                joined_on=timezone.localdate(now),
                created_at=now,
                updated_at=now,
            )
            staff.set_id_number(value)
            staff.save()
            StaffChange.objects.create(staff=staff, kind=ChangeKind.CREATED, changed_at=now)
            figures_changed(kind=ROSTER)
    except IntegrityError:
        raise DomainError("人员未能添加：工号或身份证号与其他人员冲突。")
    return staff


def staff_update(*, staff: Staff, changes: dict[str, Any]) -> Staff:
    """Change some fields of one staff member (``unit`` is a Unit, ``id_number`` the plain
    number, ``is_active`` a bool), writing one history row per changed field. All or nothing."""
    from . import idnumbers
    from .models import ChangeKind, StaffChange
    from .roster_rows import GENDER_WORDS

    unknown = sorted(set(changes) - set(STAFF_EDITABLE))
    if unknown:
        raise DomainError(f"不能修改这些字段：{', '.join(unknown)}。")
    now = timezone.now()
    problems: list[Problem] = []
    history: list[StaffChange] = []

    def record(kind: str, field_name: str, old: str, new: str) -> None:
        history.append(StaffChange(staff=staff, kind=kind, field=field_name, old_value=old, new_value=new, changed_at=now))

    try:
        with transaction.atomic():
            _lock_roster()
            staff = Staff.objects.select_for_update().get(pk=staff.pk)
            for field_name, new in changes.items():
                if field_name == "id_number":
                    value, id_problems = _staff_id_number(new, owner_pk=staff.pk)
                    problems += id_problems
                    if not value:
                        continue
                    if idnumbers.digest(value) != staff.id_number_hash:
                        old_masked = staff.id_number_masked
                        staff.set_id_number(value)
                        record(ChangeKind.UPDATED, "id_number", old_masked, staff.id_number_masked)
                elif field_name == "unit":
                    if new.pk == staff.unit_id:
                        continue
                    problems += _unit_problems(new)
                    old_unit = Unit.objects.get(pk=staff.unit_id)
                    record(ChangeKind.MOVED, "unit", f"{old_unit.code} {old_unit.name}", f"{new.code} {new.name}")
                    staff.unit = new
                elif field_name == "is_active":
                    new = bool(new)
                    if new == staff.is_active:
                        continue
                    if new:
                        record(ChangeKind.REACTIVATED, "is_active", "否", "是")
                        staff.left_on = None
                    else:
                        record(ChangeKind.DEACTIVATED, "is_active", "是", "否")
                        staff.left_on = timezone.localdate(now)
                    staff.is_active = new
                elif field_name == "is_head":
                    new = bool(new)
                    if new != staff.is_head:
                        record(ChangeKind.UPDATED, "is_head", "是" if staff.is_head else "否", "是" if new else "否")
                        staff.is_head = new
                else:
                    value = str(new or "").strip()
                    if field_name == "gender" and value:
                        problems += _staff_text_problems(field_name, value)
                        value = GENDER_WORDS.get(value.lower(), value)
                    else:
                        problems += _staff_text_problems(field_name, value)
                    old = getattr(staff, field_name)
                    if value != old:
                        # as a roster sync records it
                        record(ChangeKind.UPDATED, field_name, old, value)
                        setattr(staff, field_name, value)
            if problems:
                raise DomainError("人员未能修改：请改正以下问题。", problems)
            if history:
                staff.updated_at = now
                staff.save()
                StaffChange.objects.bulk_create(history)
                figures_changed(kind=ROSTER)
    except IntegrityError:
        raise DomainError("人员未能修改：身份证号与其他人员冲突。")
    return staff
