from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def discard_stale_dry_run_files() -> dict:
    """Beat: delete the files of web dry runs nobody confirmed within a day."""
    from roster.sync import roster_sync_discard_stale_files
    from sheets.services import import_record_discard_stale_files

    return {"roster_syncs": roster_sync_discard_stale_files(), "imports": import_record_discard_stale_files()}
