"""Background work recorded in the database: status, progress and a lease.

A job row is created first and its task is enqueued on commit with the row's id only. A
worker claims the row with one conditional UPDATE, so two workers never run the same job;
a job whose lease ran out (its worker died) can be claimed again.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import Busy

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    SUCCEEDED = "succeeded", _("已完成")
    REFUSED = "refused", _("已拒绝")
    FAILED = "failed", _("失败")


FINISHED = (JobStatus.SUCCEEDED, JobStatus.REFUSED, JobStatus.FAILED)


class Job(models.Model):
    status = models.CharField(_("状态"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("租约到期"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("执行次数"), default=0)
    progress_done = models.PositiveIntegerField(_("已处理"), default=0)
    progress_total = models.PositiveIntegerField(_("总数"), default=0)
    message = models.TextField(_("说明"), blank=True, default="")

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    def progress(self) -> dict[str, int]:
        return {"done": self.progress_done, "total": self.progress_total}


J = TypeVar("J", bound=Job)


def job_lease_remaining(*, job: Job) -> float:
    if job.lease_expires_at is None:
        return 0.0
    return max((job.lease_expires_at - timezone.now()).total_seconds(), 0.0)


class JobLost(Exception):
    """This run no longer owns its job: its lease ran out and a newer claim took the record
    (or the sweeper ended it). Raised inside the job's transaction, so nothing it did stays."""


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.JOB_LEASE_SECONDS)


def _owned(job: Job) -> Q:
    """The fencing condition: the row is still this run's (same attempt, not finished)."""
    return Q(pk=job.pk, attempts=job.attempts) & ~Q(status__in=FINISHED)


def job_claim(*, model: type[Job], pk: int) -> int | None:
    """Take the job for this process: a compare-and-set on the attempt number. Returns the
    fencing token (the new attempt number) when exactly this call moved it to running, else
    None (finished already, or running elsewhere under a live lease)."""
    now = timezone.now()
    current = model.objects.filter(pk=pk).values_list("attempts", flat=True).first()
    if current is None:
        return None
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now)
    changed = model.objects.filter(claimable, pk=pk, attempts=current).update(
        status=JobStatus.RUNNING,
        started_at=now,
        lease_expires_at=now + _lease(),
        attempts=current + 1,
    )
    return current + 1 if changed == 1 else None


def job_fence(*, job: Job) -> None:
    """Check, inside the job's transaction and after its locks, that the record is still
    ``running`` under this run's token; raise ``JobLost`` (the caller's transaction rolls
    back) when another claim took it."""
    if not type(job).objects.filter(_owned(job), status=JobStatus.RUNNING).exists():
        raise JobLost(f"{type(job).__name__} {job.pk} attempt {job.attempts}")


def job_finish(*, job: Job, fields: Iterable[str] = ()) -> None:
    """Store the outcome: only the job's own columns (``status``, ``message``, ``finished_at``,
    progress and ``fields``), and only ``WHERE attempts = <token>``. Call it inside the job's
    transaction: ``JobLost`` then undoes the work of a run that was taken over."""
    job.finished_at = job.finished_at if job.status not in FINISHED else timezone.now()
    job.progress_total = max(job.progress_total, job.progress_done)
    job.progress_done = job.progress_total
    names = {"status", "message", "finished_at", "progress_done", "progress_total", *fields}
    changed = type(job).objects.filter(_owned(job)).update(**{name: getattr(job, name) for name in names})
    if changed != 1:
        raise JobLost(f"{type(job).__name__} {job.pk} attempt {job.attempts}")


def job_fail(*, job: Job, message: str, **extra: Any) -> bool:
    """End the job as failed, unless it is no longer this run's. True when it was stored."""
    try:
        changed = type(job).objects.filter(_owned(job)).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), message=message, **extra
        )
    except DatabaseError:
        logger.warning("could not mark %s %s failed; the sweeper will take it", type(job).__name__, job.pk)
        return False
    return changed == 1


def job_progress(*, job: Job, done: int, total: int | None = None) -> None:
    """Record progress and renew the lease. Inside the job's main transaction the heartbeat
    thread (its own connection) writes it, so the progress bar moves during the apply."""
    job.progress_done = done
    fields: dict[str, Any] = {"progress_done": done}
    if total is not None:
        job.progress_total = total
        fields["progress_total"] = total
    beat = _BEATS.get((type(job), job.pk))
    if beat is not None and connection.in_atomic_block:
        beat.carry(fields)
        return
    fields["lease_expires_at"] = timezone.now() + _lease()
    type(job).objects.filter(_owned(job)).update(**fields)


class Heartbeat(threading.Thread):
    """Renews a running job's lease every ``JOB_HEARTBEAT_SECONDS`` from its own database
    connection, while the job's thread works (also inside a long transaction). It stops when
    the job ends or when the row is no longer this run's. A process that is killed or frozen
    (SIGKILL, SIGSTOP, a VM suspend) stops beating with it, so its lease runs out."""

    def __init__(self, job: Job) -> None:
        super().__init__(name=f"heartbeat-{type(job).__name__}-{job.pk}", daemon=True)
        self.model, self.pk, self.token = type(job), job.pk, job.attempts
        self.stopped = threading.Event()
        self._pending: dict[str, Any] = {}
        self._mutex = threading.Lock()

    def carry(self, fields: dict[str, Any]) -> None:
        with self._mutex:
            self._pending.update(fields)

    def beat(self) -> bool:
        with self._mutex:
            fields, self._pending = self._pending, {}
        fields["lease_expires_at"] = timezone.now() + _lease()
        try:
            owned = Q(pk=self.pk, attempts=self.token, status=JobStatus.RUNNING)
            return self.model.objects.filter(owned).update(**fields) == 1
        except DatabaseError:
            logger.warning("heartbeat of %s %s could not reach the database", self.model.__name__, self.pk)
            connection.close()
            return True

    def run(self) -> None:
        try:
            # never fewer than three beats a lease, whatever the two settings say
            every = min(settings.JOB_HEARTBEAT_SECONDS, settings.JOB_LEASE_SECONDS / 3)
            while not self.stopped.wait(every):
                if not self.beat():
                    break
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


_BEATS: dict[tuple[type, int], Heartbeat] = {}


@contextmanager
def job_heartbeat(*, job: Job) -> Iterator[None]:
    """Beat for ``job`` while the block runs. Only where another connection can see the row:
    PostgreSQL outside an enclosing transaction (not SQLite, not a test's transaction)."""
    if (settings.JOB_HEARTBEAT_SECONDS <= 0 or connection.vendor != "postgresql" or connection.in_atomic_block):
        yield
        return
    beat = Heartbeat(job)
    _BEATS[(type(job), job.pk)] = beat
    beat.start()
    try:
        yield
    finally:
        _BEATS.pop((type(job), job.pk), None)
        beat.stop()


# A lost connection, a failover, an admin kill, a lock or statement timeout, a busy lock:
# worth another try. Everything a job does is one transaction, so a retry starts clean.
TRANSIENT = (OperationalError, InterfaceError, Busy)
DB_UNAVAILABLE = "数据库暂时不可用，已重试 {n} 次仍未成功，未作任何改动。请稍后重新提交。"


def job_run(*, job: J, work: Callable[[J], Any], failed: str, failed_fields: dict[str, Any] | None = None) -> J:
    """The one lifecycle of a recorded job: claim it (the fencing token), renew the lease while
    ``work`` runs, retry transient database failures with backoff, and end it as failed with
    ``failed`` on anything unexpected. ``work`` stores the outcome with ``job_finish`` inside
    its transaction. Returns the record as stored; safe to call twice."""
    token = job_claim(model=type(job), pk=job.pk)
    job.refresh_from_db()
    if token is None or job.attempts != token:
        return job
    with job_heartbeat(job=job):
        _run_retrying(job, work, failed, failed_fields or {})
    try:
        job.refresh_from_db()
    except DatabaseError:
        connection.close()
    return job


def _run_retrying(job: J, work: Callable[[J], Any], failed: str, failed_fields: dict[str, Any]) -> None:
    token = job.attempts
    retries = settings.JOB_DB_RETRIES
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            work(job)
            return
        except JobLost:
            logger.warning("%s %s was taken over (attempt %s); this run stops", type(job).__name__, job.pk, token)
            return
        except TRANSIENT as exc:
            last = exc
            logger.warning("%s %s: transient failure (%s), try %s of %s", type(job).__name__, job.pk,
                           type(exc).__name__, attempt + 1, retries + 1)
        except Exception:
            logger.exception("%s %s failed", type(job).__name__, job.pk)
            job_fail(job=job, message=failed, **failed_fields)
            return
        if connection.in_atomic_block:
            break  # inside the caller's transaction: no clean retry is possible
        connection.close()
        if attempt == retries:
            break
        time.sleep(settings.JOB_RETRY_SECONDS * 2**attempt)
        try:
            job.refresh_from_db()
        except DatabaseError:
            connection.close()
            job.attempts = token
        if job.attempts != token or job.status != JobStatus.RUNNING:
            return
    message = last.message if isinstance(last, Busy) else DB_UNAVAILABLE.format(n=attempt)
    job_fail(job=job, message=message, **failed_fields)


@dataclass(frozen=True)
class JobKind:
    model: type[Job]
    # the Celery task that runs one record; it takes the record's id and nothing else
    task: Any
    # queued jobs older than this are presumed lost by the broker and sent again
    requeue_after: dt.timedelta = dt.timedelta(minutes=2)
    # the rows of ``model`` this kind owns, when several kinds share a model (ImportRecord)
    filter: Q | None = None
    # no task: the job runs synchronously in the process that created it (a sign-in sheet in
    # a web request). The sweeper cannot re-run it: past its lease it is ended as failed.
    abandoned_message: str = "任务中断：处理它的进程已停止，未作任何改动。请重新上传文件。"


JOB_KINDS: dict[str, JobKind] = {}


def register_job_kind(name: str, kind: JobKind) -> None:
    """Apps register their kinds in ``AppConfig.ready``, so services enqueue by name and never
    import their tasks."""
    JOB_KINDS[name] = kind


def job_dispatch(*, kind: str, pk: int, countdown: float = 0) -> None:
    """Send the task of one record now. When the broker is down the record stays queued and
    the sweeper sends it later: a broker outage must not fail the request that queued the work."""
    task = JOB_KINDS[kind].task
    try:
        task.apply_async((pk,), countdown=countdown) if countdown > 0 else task.delay(pk)
    except Exception:
        logger.warning("could not publish %s for record %s; it stays queued", kind, pk)


def job_enqueue(*, kind: str, pk: int, countdown: float = 0) -> None:
    """Send the task of one record once the caller's transaction commits, so a worker never
    looks for a row that is not there yet."""
    if kind not in JOB_KINDS:
        raise KeyError(f"unknown job kind {kind!r}")
    transaction.on_commit(lambda: job_dispatch(kind=kind, pk=pk, countdown=countdown))


def jobs_redispatch_stale(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Send again the jobs that sit queued (the broker lost or never got the message) or
    running past their lease (the worker died)."""
    now = now or timezone.now()
    sent: dict[str, int] = {}
    for name, kind in JOB_KINDS.items():
        stale = kind.model.objects.filter(
            Q(status=JobStatus.QUEUED, created_at__lt=now - kind.requeue_after)
            | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now)
        )
        if kind.filter is not None:
            stale = stale.filter(kind.filter)
        ids = list(stale.values_list("pk", flat=True)[:500])
        if kind.task is None:
            ids = jobs_abandon(kind=kind, ids=ids, now=now)
        else:
            for pk in ids:
                job_dispatch(kind=name, pk=pk)
        sent[name] = len(ids)
    return sent


def jobs_abandon(*, kind: JobKind, ids: list[int], now: dt.datetime) -> list[int]:
    """End stale synchronous jobs as failed, and delete the uploads they held (personal data
    must not outlive its job). The UPDATE repeats the staleness test, so a job that renewed its
    lease meanwhile is left alone; its finish is fenced off by the failed status otherwise."""
    model = kind.model
    with transaction.atomic():
        ended = list(
            model.objects.select_for_update(skip_locked=True)
            .filter(Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now), pk__in=ids)
            .values_list("pk", flat=True)
        )
        model.objects.filter(pk__in=ended).update(status=JobStatus.FAILED, finished_at=now, message=kind.abandoned_message)
    if any(f.name == "source_file" for f in model._meta.get_fields()):
        for record in model.objects.filter(pk__in=ended).exclude(source_file="").exclude(source_file__isnull=True):
            record.source_file.delete(save=False)
        model.objects.filter(pk__in=ended).update(source_file="")
    if ended:
        logger.warning("%s: %s stale synchronous job(s) ended as failed", model.__name__, len(ended))
    return ended


# the options of every job task: late acks and a re-run when the worker dies under it
JOB_TASK_OPTIONS: dict[str, Any] = {
    "bind": True, "acks_late": True, "reject_on_worker_lost": True, "max_retries": 5, "retry_backoff": True,
}


def job_task_run(task: Any, *, model: type[J], pk: int, run: Callable[[J], Any], key: str,
                 **filters: Any) -> dict[str, Any]:
    """The body of a job task: load the record by id, run it, and look again when its lease
    runs out if another worker holds it."""
    job = model.objects.filter(pk=pk, **filters).first()
    if job is None:
        return {key: pk, "status": "missing"}
    result = run(job)
    if result.status == JobStatus.RUNNING:
        job.refresh_from_db()
        raise task.retry(countdown=job_lease_remaining(job=job) + 1)
    return {key: pk, "status": result.status}
