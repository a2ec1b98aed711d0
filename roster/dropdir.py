"""The drop folder HR's exports land in, watched by Celery beat."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from django.db import IntegrityError, transaction

from .models import RosterSync, SyncMode, SyncSource
from .sync import roster_sync_create, roster_sync_enqueue

logger = logging.getLogger(__name__)


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
