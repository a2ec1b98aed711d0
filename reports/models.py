"""Participation snapshots: the figures per unit, for the unit alone and rolled up over its
subtree, per exam and per training year, stored with the moment they describe, so that a
dashboard reads them at once and a trend over an exam's window can be drawn.

A ``SnapshotRun`` is one recomputation (a job: queued, running, finished). Changes to the
data leave a ``SnapshotRequest`` naming what changed; the next run takes every request that
exists when it starts. At most one run waits in the queue at a time (a partial unique
constraint), which is how ten imports in a minute cause one recomputation.

``AnnualReport`` is the job record of an annual report built in the background.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.jobs import Job, JobStatus
from exams.models import Exam
from roster.models import Unit
from sheets.storage import private_upload_storage


class SnapshotTrigger(models.TextChoices):
    CHANGE = "change", _("数据变动")
    SCHEDULE = "schedule", _("定时刷新")
    MANUAL = "manual", _("手动刷新")


class RequestKind(models.TextChoices):
    ROSTER = "roster", _("名册同步")
    EXAM = "exam", _("考试数据")
    TRAINING = "training", _("培训数据")
    SCHEDULE = "schedule", _("定时刷新")
    FULL = "full", _("全部重算")


class SnapshotRun(Job):
    trigger = models.CharField(_("触发方式"), max_length=16, choices=SnapshotTrigger.choices, default=SnapshotTrigger.CHANGE)
    # debounce: the run does not start before this moment, so that changes arriving
    # meanwhile are taken by the same run
    not_before = models.DateTimeField(_("最早开始时间"), default=timezone.now)
    # the moment the figures describe: when the run started reading
    computed_at = models.DateTimeField(_("统计时间"), null=True, blank=True)
    requests = models.PositiveIntegerField(_("合并的变动数"), default=0)
    exams = models.JSONField(_("重算的考试"), default=list, blank=True)
    years = models.JSONField(_("重算的培训年度"), default=list, blank=True)
    rows = models.PositiveIntegerField(_("快照行数"), default=0)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)

    class Meta:
        verbose_name = _("统计快照任务")
        verbose_name_plural = _("统计快照任务")
        ordering = ["-created_at", "-id"]
        constraints = [
            # one run waits at a time: a change that finds it waiting joins it
            models.UniqueConstraint(
                fields=["status"], condition=Q(status=JobStatus.QUEUED), name="snapshot_run_one_queued"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} #{self.pk}（{self.get_status_display()}）"


class SnapshotRequest(models.Model):
    """A change waiting for the next run: ids and years only."""

    kind = models.CharField(_("类型"), max_length=16, choices=RequestKind.choices)
    exam_id = models.BigIntegerField(_("考试编号"), null=True, blank=True)
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("待刷新的变动")
        verbose_name_plural = _("待刷新的变动")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.exam_id or self.year or ''}".strip()


class ExamSnapshot(models.Model):
    """One unit's figures for one exam at one moment: for the unit alone, or (``rollup``) for
    its whole subtree. The figures are those of ``exams.selectors``."""

    run = models.ForeignKey(SnapshotRun, verbose_name=_("快照任务"), on_delete=models.CASCADE, related_name="+",
                            db_index=False)
    computed_at = models.DateTimeField(_("统计时间"))
    exam = models.ForeignKey(Exam, verbose_name=_("考试"), on_delete=models.CASCADE, related_name="snapshots",
                             db_index=False)
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+", db_index=False)
    rollup = models.BooleanField(_("含下属单位"))
    candidates = models.PositiveIntegerField(_("考生"))
    exempt = models.PositiveIntegerField(_("免考"))
    expected = models.PositiveIntegerField(_("应考"))
    sat = models.PositiveIntegerField(_("实考"))
    not_sat = models.PositiveIntegerField(_("未考"))
    passed = models.PositiveIntegerField(_("合格"))
    failed = models.PositiveIntegerField(_("不合格"))
    participation_rate = models.FloatField(_("参考率"), null=True, blank=True)
    pass_rate = models.FloatField(_("合格率"), null=True, blank=True)
    average_score = models.FloatField(_("平均分"), null=True, blank=True)

    class Meta:
        verbose_name = _("考试统计快照")
        verbose_name_plural = _("考试统计快照")
        ordering = ["exam_id", "-computed_at", "unit_id", "rollup"]
        constraints = [
            models.UniqueConstraint(fields=["run", "exam", "unit", "rollup"], name="exam_snapshot_once_per_run"),
        ]
        indexes = [
            # the latest snapshot of an exam (participation_latest)
            models.Index(fields=["exam", "computed_at"], name="exam_snapshot_latest_idx"),
            # one unit's trend over an exam's window (participation_trend)
            models.Index(fields=["unit", "exam", "rollup", "computed_at"], name="exam_snapshot_trend_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.exam_id}/{self.unit_id} @ {self.computed_at:%Y-%m-%d %H:%M}"


class TrainingSnapshot(models.Model):
    """One unit's training figures for one year at one moment: alone, or rolled up."""

    run = models.ForeignKey(SnapshotRun, verbose_name=_("快照任务"), on_delete=models.CASCADE, related_name="+",
                            db_index=False)
    computed_at = models.DateTimeField(_("统计时间"))
    year = models.PositiveSmallIntegerField(_("年度"))
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+", db_index=False)
    rollup = models.BooleanField(_("含下属单位"))
    attendances = models.PositiveIntegerField(_("参训人次"))
    staff_trained = models.PositiveIntegerField(_("参训人数"))
    person_hours = models.DecimalField(_("学时"), max_digits=14, decimal_places=2)
    staff_below_hours = models.PositiveIntegerField(_("学时未达标人数"))

    class Meta:
        verbose_name = _("培训统计快照")
        verbose_name_plural = _("培训统计快照")
        ordering = ["-year", "-computed_at", "unit_id", "rollup"]
        constraints = [
            models.UniqueConstraint(fields=["run", "year", "unit", "rollup"], name="training_snapshot_once_per_run"),
        ]
        indexes = [
            # the latest snapshot of a year (participation_latest)
            models.Index(fields=["year", "computed_at"], name="training_snapshot_latest_idx"),
            # one unit's trend over a year (participation_trend)
            models.Index(fields=["unit", "year", "rollup", "computed_at"], name="training_snapshot_trend_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.year}/{self.unit_id} @ {self.computed_at:%Y-%m-%d %H:%M}"


class ReportFormat(models.TextChoices):
    JSON = "json", "JSON"
    XLSX = "xlsx", _("Excel 表格")
    DOCX = "docx", _("Word 文档")
    PNG = "png", _("图表（PNG）")


class AnnualReport(Job):
    """An annual report built by a Celery task: the JSON is kept on the row, the rendered
    file in private storage."""

    year = models.PositiveSmallIntegerField(_("年度"))
    format = models.CharField(_("格式"), max_length=8, choices=ReportFormat.choices, default=ReportFormat.JSON)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    report = models.JSONField(_("报告数据"), default=dict, blank=True)
    file = models.FileField(
        _("文件"), upload_to="reports/annual/%Y/", storage=private_upload_storage, null=True, blank=True, max_length=300
    )
    file_name = models.CharField(_("文件名"), max_length=200, blank=True, default="")
    size = models.PositiveIntegerField(_("文件大小（字节）"), default=0)

    class Meta:
        verbose_name = _("年度报告")
        verbose_name_plural = _("年度报告")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.year} 年度报告（{self.get_format_display()}，{self.get_status_display()}）"
