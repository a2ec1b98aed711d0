"""The figures of /metrics read from the database at scrape time, so every process answers
the same: job records by kind and status, the age of the oldest queued and oldest running job,
the age of the last successful snapshot refresh, imported rows by kind, reminder messages by
status."""

from __future__ import annotations

from django.db.models import Count, Min, Sum
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily


class DatabaseCollector:
    def collect(self):
        from config.jobs import JOB_KINDS, JobStatus

        now = timezone.now()
        jobs = GaugeMetricFamily("legaltrack_jobs", "Job records by kind and status", labels=["kind", "status"])
        oldest = GaugeMetricFamily("legaltrack_job_oldest_age_seconds",
                                   "Age of the oldest queued (since created) and running (since started) job",
                                   labels=["kind", "status"])
        for name, kind in JOB_KINDS.items():
            counts = dict.fromkeys(JobStatus.values, 0)
            for status, n in kind.model.objects.order_by().values_list("status").annotate(n=Count("pk")):
                counts[status] = n
            for status, n in counts.items():
                jobs.add_metric([name, status], n)
            queued = kind.model.objects.filter(status=JobStatus.QUEUED).aggregate(at=Min("created_at"))["at"]
            running = kind.model.objects.filter(status=JobStatus.RUNNING).aggregate(at=Min("started_at"))["at"]
            oldest.add_metric([name, "queued"], (now - queued).total_seconds() if queued else 0)
            oldest.add_metric([name, "running"], (now - running).total_seconds() if running else 0)
        yield jobs
        yield oldest
        if "snapshot_refresh" in JOB_KINDS:
            model = JOB_KINDS["snapshot_refresh"].model
            latest = model.objects.filter(status=JobStatus.SUCCEEDED).order_by("-finished_at").values_list(
                "finished_at", flat=True).first()
            age = GaugeMetricFamily("legaltrack_snapshot_refresh_age_seconds",
                                    "Seconds since the last successful snapshot refresh (-1: never)")
            age.add_metric([], (now - latest).total_seconds() if latest else -1)
            yield age
        yield self._imported_rows(JOB_KINDS, JobStatus)
        reminders = self._reminders()
        if reminders is not None:
            yield reminders

    @staticmethod
    def _imported_rows(kinds, statuses):
        family = GaugeMetricFamily("legaltrack_imported_rows", "Rows of the successful imports, by kind", labels=["kind"])
        if "roster_sync" in kinds:
            rows = kinds["roster_sync"].model.objects.filter(status=statuses.SUCCEEDED).aggregate(n=Sum("rows"))["n"]
            family.add_metric(["roster"], rows or 0)
        from sheets.models import ImportRecord

        for kind, rows in (ImportRecord.objects.filter(status=statuses.SUCCEEDED).order_by()
                           .values_list("kind").annotate(n=Sum("rows"))):
            family.add_metric([kind], rows or 0)
        return family

    @staticmethod
    def _reminders():
        try:
            from reminders.selectors import reminder_status_counts
        except ImportError:
            return None
        family = GaugeMetricFamily("legaltrack_reminder_messages", "Reminder messages by status", labels=["status"])
        for status, n in reminder_status_counts().items():
            family.add_metric([status], n)
        return family
