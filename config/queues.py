"""The Celery queues, and which task goes to which: the one place tasks are routed.

Three queues besides the default one, so each kind of work can get its own workers (and
machines) and a long import never delays a report or a reminder:

- ``imports``: the roster syncs and their undo, results and exemptions imports. (Sign-in
  sheets and certificate imports run in the request that uploads them: they have no task.)
- ``reports``: the snapshot refreshes and the annual report (learning files are read from the
  snapshots in the request).
- ``reminders``: the digests, the retries and "send now".
- the default queue (``CELERY_TASK_DEFAULT_QUEUE``, ``celery``): the sweeper, the drop-folder
  scan and the clean-up of stale dry runs: small, periodic housekeeping.

Every queue's name is ``CELERY_QUEUE_PREFIX`` + its name (the default queue's too, unless
``CELERY_TASK_DEFAULT_QUEUE`` is set), so one deployment, or one test, can keep its queues to
itself on a shared Redis. ``worker_queues()`` is the ``-Q`` list of a worker that takes them all.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULT = "default"
IMPORTS = "imports"
REPORTS = "reports"
REMINDERS = "reminders"
QUEUES = (IMPORTS, REPORTS, REMINDERS)

# every task the project defines, and its queue (DEFAULT: the default queue). A task missing
# here is refused by tests/jobs/test_queues.py.
TASK_QUEUES: dict[str, str] = {
    "roster.tasks.sync_roster": IMPORTS,
    "roster.tasks.undo_roster_sync": IMPORTS,
    "exams.tasks.run_exam_import": IMPORTS,
    "reports.tasks.refresh_snapshots": REPORTS,
    "reports.tasks.refresh_snapshots_scheduled": REPORTS,
    "reports.tasks.run_annual_report": REPORTS,
    "reminders.tasks.send_due_reminders": REMINDERS,
    "reminders.tasks.retry_reminders": REMINDERS,
    "reminders.tasks.run_reminder_job": REMINDERS,
    "config.tasks.redispatch_stale_jobs": DEFAULT,
    "roster.tasks.scan_roster_drop_dir": DEFAULT,
    "web.tasks.discard_stale_dry_run_files": DEFAULT,
}


def queue_name(queue: str) -> str:
    """The broker's name of ``queue`` (one of QUEUES, or DEFAULT) in this deployment."""
    if queue == DEFAULT:
        from config.celery import app

        return app.conf.task_default_queue
    return f"{getattr(settings, 'CELERY_QUEUE_PREFIX', '')}{queue}"


def worker_queues(*only: str) -> list[str]:
    """The broker's names of ``only`` (by default every queue, the default one first): what a
    worker passes to ``-Q``."""
    return [queue_name(queue) for queue in (only or (DEFAULT, *QUEUES))]


def route_task(name: str, args: Any = None, kwargs: Any = None, options: Any = None, task: Any = None,
               **rest: Any) -> dict[str, str] | None:
    """Celery's router (``CELERY_TASK_ROUTES``): a task's queue from TASK_QUEUES; an unknown
    task (a test's, Celery's own) goes to the default queue."""
    queue = TASK_QUEUES.get(name)
    if queue is None or queue == DEFAULT:
        return None
    return {"queue": queue_name(queue)}
