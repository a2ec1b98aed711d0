"""Background work recorded in the database: status, progress and a lease.

A job row is created first and its task is enqueued on commit with the row's id only. A
worker claims the row with one conditional UPDATE, so two workers never run the same job;
a job whose lease ran out (its worker died) can be claimed again.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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


def job_lease_remaining(*, job: Job) -> float:
    if job.lease_expires_at is None:
        return 0.0
    return max((job.lease_expires_at - timezone.now()).total_seconds(), 0.0)


def job_claim(*, model: type[Job], pk: int) -> bool:
    """Take the job for this process. True when exactly this call moved it to running."""
    now = timezone.now()
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now)
    changed = model.objects.filter(claimable, pk=pk).update(
        status=JobStatus.RUNNING,
        started_at=now,
        lease_expires_at=now + dt.timedelta(seconds=settings.JOB_LEASE_SECONDS),
        attempts=models.F("attempts") + 1,
    )
    return changed == 1


def job_progress(*, job: Job, done: int, total: int | None = None) -> None:
    """Record progress and renew the lease. Call it outside the job's main transaction, or
    nobody else sees it."""
    job.progress_done = done
    fields = {
        "progress_done": done,
        "lease_expires_at": timezone.now() + dt.timedelta(seconds=settings.JOB_LEASE_SECONDS),
    }
    if total is not None:
        job.progress_total = total
        fields["progress_total"] = total
    type(job).objects.filter(pk=job.pk).update(**fields)


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobKind:
    model: type[Job]
    # the Celery task that runs one record; it takes the record's id and nothing else
    task: Any
    # queued jobs older than this are presumed lost by the broker and sent again
    requeue_after: dt.timedelta = dt.timedelta(minutes=2)
    # the rows of ``model`` this kind owns, when several kinds share a model (ImportRecord)
    filter: Q | None = None


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
        stale = stale.values_list("pk", flat=True)
        ids = list(stale[:500])
        for pk in ids:
            job_dispatch(kind=name, pk=pk)
        sent[name] = len(ids)
    return sent
