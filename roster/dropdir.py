"""The drop folder HR's exports land in, watched by Celery beat.

A file is taken only once it is whole:
- names ending ``.part`` or ``.tmp``, or starting ``~$`` (Excel's lock file) or ``.``, are
  ignored: the uploader writes ``x.csv.part`` and renames it to ``x.csv`` when done;
- its size and mtime must be the same at two scans in a row (the state is kept in
  ``RosterDropFile``), and unchanged for a few seconds.

A taken file is moved to ``processed/`` (its sync queued, or its content already synced: a
record says so) or to ``rejected/`` with a ``.txt`` beside it holding the reason. Files there
are deleted after ``ROSTER_DROP_RETENTION_DAYS``."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.errors import DomainError
from config.jobs import JobStatus

from .models import DropFileStatus, RosterDropFile, RosterSync, SyncMode, SyncSource
from .sync import roster_sync_create, roster_sync_enqueue

logger = logging.getLogger(__name__)


DROP_DIR_SUFFIXES = {".csv", ".xlsx", ".txt"}
DROP_DIR_SETTLE_SECONDS = 5
IGNORED_SUFFIXES = (".part", ".tmp")
IGNORED_PREFIXES = ("~$", ".")
PROCESSED, REJECTED = "processed", "rejected"


def drop_name_ignored(name: str) -> bool:
    """Files still being written by a well-behaved uploader, or not files of ours."""
    lowered = name.lower()
    return lowered.endswith(IGNORED_SUFFIXES) or name.startswith(IGNORED_PREFIXES) or lowered == "thumbs.db"


def _move(path: Path, root: Path, folder: str, *, reason: str = "") -> str:
    """Move ``path`` into ``root/folder`` under a name that cannot clash; a rejected file gets
    ``<name>.txt`` beside it. Its mtime becomes now, so the retention counts from the move."""
    target_dir = root / folder
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{timezone.localtime().strftime('%Y%m%d-%H%M%S')}-{path.name}"
    n = 1
    while target.exists():
        target = target_dir / f"{timezone.localtime().strftime('%Y%m%d-%H%M%S')}-{n}-{path.name}"
        n += 1
    os.replace(path, target)
    os.utime(target)
    if reason:
        target.with_name(target.name + ".txt").write_text(reason + "\n", encoding="utf-8")
    return str(target.relative_to(root))


def _purge_old(root: Path, *, days: int) -> int:
    cutoff = time.time() - days * 86400
    removed = 0
    for folder in (PROCESSED, REJECTED):
        sub = root / folder
        if not sub.is_dir():
            continue
        for path in sub.iterdir():
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
    return removed


def _reject_failed_syncs(root: Path) -> None:
    """A queued file whose sync was refused or failed moves on from processed/ to rejected/."""
    ended = RosterDropFile.objects.filter(
        status=DropFileStatus.QUEUED, sync__status__in=[JobStatus.REFUSED, JobStatus.FAILED]
    ).select_related("sync")
    for record in ended:
        sync = record.sync
        lines = [f"名册同步 #{sync.pk}：{sync.get_status_display()}。{sync.message}".rstrip()]
        for error in (sync.errors or [])[:20]:
            where = f"第 {error.get('row')} 行 " if error.get("row") else ""
            column = f"“{error.get('column')}”列：" if error.get("column") else ""
            lines.append(f"{where}{column}{error.get('message', '')}")
        reason = "\n".join(lines)
        current = root / record.moved_to if record.moved_to else None
        moved_to = record.moved_to
        if current is not None and current.is_file():
            moved_to = _move(current, root, REJECTED, reason=reason)
        RosterDropFile.objects.filter(pk=record.pk, status=DropFileStatus.QUEUED).update(
            status=DropFileStatus.REJECTED, reason=reason, moved_to=moved_to, decided_at=timezone.now()
        )


def _candidates(root: Path) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for sub, mode in ((root, SyncMode.FULL), (root / "partial", SyncMode.PARTIAL)):
        if not sub.is_dir():
            continue
        for path in sub.iterdir():
            if path.is_file() and not drop_name_ignored(path.name):
                found.append((path, mode))
    return found


def _stable(path: Path, rel: str, *, settle_seconds: float, now: float) -> bool:
    """True when the size and mtime are those of the previous scan. Records this sighting."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return False
    seen = RosterDropFile.objects.filter(path=rel, status=DropFileStatus.PENDING).first()
    if seen is None:
        try:
            with transaction.atomic():
                RosterDropFile.objects.create(path=rel, size=stat.st_size, mtime=stat.st_mtime)
        except IntegrityError:
            pass  # another scanner saw it first
        return False
    if (seen.size, seen.mtime) != (stat.st_size, stat.st_mtime):
        RosterDropFile.objects.filter(pk=seen.pk).update(size=stat.st_size, mtime=stat.st_mtime)
        return False
    return now - stat.st_mtime >= settle_seconds


def _decide(*, rel: str, **fields) -> None:
    RosterDropFile.objects.filter(path=rel, status=DropFileStatus.PENDING).update(decided_at=timezone.now(), **fields)


def _take(path: Path, rel: str, mode: str, root: Path) -> int | None:
    """Sync a stable file, or record why not. Returns the new sync's id."""
    if path.suffix.lower() not in DROP_DIR_SUFFIXES:
        reason = f"不支持的文件类型“{path.suffix or '无扩展名'}”：投递目录只接受 CSV、XLSX 或 TXT 文件。"
        _decide(rel=rel, status=DropFileStatus.REJECTED, reason=reason, moved_to=_move(path, root, REJECTED, reason=reason))
        return None
    if path.stat().st_size > settings.SHEETS_MAX_BYTES:
        reason = f"文件超过大小上限（{settings.SHEETS_MAX_BYTES // (1024 * 1024)} MB）。"
        _decide(rel=rel, status=DropFileStatus.REJECTED, reason=reason, moved_to=_move(path, root, REJECTED, reason=reason))
        return None
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    earlier = RosterSync.objects.filter(source=SyncSource.DROP_DIR, sha256=digest).first()
    if earlier is not None:
        reason = f"内容与名册同步 #{earlier.pk}（{earlier.file_name}）相同，未再次同步。"
        _decide(rel=rel, status=DropFileStatus.DUPLICATE, sha256=digest, sync=earlier, reason=reason,
                moved_to=_move(path, root, PROCESSED))
        logger.info("roster drop folder: %s repeats sync %s, not synced again", path.name, earlier.pk)
        return None
    try:
        with transaction.atomic():
            sync = roster_sync_create(file=data, file_name=path.name, mode=mode, source=SyncSource.DROP_DIR)
            roster_sync_enqueue(sync=sync)
            _decide(rel=rel, status=DropFileStatus.QUEUED, sha256=digest, sync=sync, reason=f"已提交名册同步 #{sync.pk}。")
    except IntegrityError:
        return None  # another scanner took the same content first; the next scan records the repeat
    except DomainError as error:
        _decide(rel=rel, status=DropFileStatus.REJECTED, sha256=digest, reason=error.message,
                moved_to=_move(path, root, REJECTED, reason=error.message))
        return None
    moved_to = _move(path, root, PROCESSED)
    RosterDropFile.objects.filter(sync=sync, status=DropFileStatus.QUEUED).update(moved_to=moved_to)
    return sync.pk


def roster_drop_dir_scan(
    *,
    directory: str | Path,
    settle_seconds: float = DROP_DIR_SETTLE_SECONDS,
    retention_days: int | None = None,
) -> list[int]:
    """One scan of the watched folder: queue a sync for each whole new file (a file in the
    ``partial`` sub-folder syncs in partial mode), move what was taken, purge old files.
    Returns the ids of the syncs queued."""
    root = Path(directory)
    if not root.is_dir():
        logger.warning("roster drop folder %s does not exist", root)
        return []
    days = settings.ROSTER_DROP_RETENTION_DAYS if retention_days is None else retention_days
    _purge_old(root, days=days)
    _reject_failed_syncs(root)
    now = time.time()
    queued: list[int] = []
    candidates = _candidates(root)
    present = {str(path.relative_to(root)) for path, _ in candidates}
    # a waiting file that disappeared (renamed, deleted) is forgotten
    RosterDropFile.objects.filter(status=DropFileStatus.PENDING).exclude(path__in=present).delete()
    for path, mode in sorted(candidates, key=lambda item: item[0].stat().st_mtime):
        rel = str(path.relative_to(root))
        if not _stable(path, rel, settle_seconds=settle_seconds, now=now):
            continue
        try:
            pk = _take(path, rel, mode, root)
        except FileNotFoundError:
            continue  # moved away by another scanner
        if pk is not None:
            queued.append(pk)
    return queued
