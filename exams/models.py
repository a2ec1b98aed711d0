"""Exams, the staff expected to sit them (candidates), and every sitting (attempts).

A candidate carries its exam state denormalised: the best score, the number of attempts and
whether the best score passes. Imports refresh these set-based, so the figures are one
aggregate over candidates. ``unit`` and ``left_on`` are copies of the staff member's unit and
leaving date, kept current while the exam has not closed and frozen once it has: last year's
figures never move when this year's roster changes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.text import validate_no_control_chars
from roster.models import Staff, Unit
from sheets.models import ImportKind, ImportRecord


class ExamKind(models.TextChoices):
    ANNUAL_LAW = "annual_law", _("学法用法考试")
    ENFORCEMENT_QUALIFICATION = "enforcement_qualification", _("执法资格考试")
    ENFORCEMENT_RENEWAL = "enforcement_renewal", _("执法续职考试")


class Audience(models.TextChoices):
    ALL = "all", _("全体在册人员")
    ENFORCEMENT = "enforcement", _("持执法证人员")
    HEADS = "heads", _("单位正职")


DEFAULT_AUDIENCE = {
    ExamKind.ANNUAL_LAW: Audience.ALL,
    ExamKind.ENFORCEMENT_QUALIFICATION: Audience.ENFORCEMENT,
    ExamKind.ENFORCEMENT_RENEWAL: Audience.ENFORCEMENT,
}


class Exam(models.Model):
    name = models.CharField(_("考试名称"), max_length=200, validators=[validate_no_control_chars])
    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("考试类型"), max_length=32, choices=ExamKind.choices)
    audience = models.CharField(_("应考范围"), max_length=16, choices=Audience.choices, default=Audience.ALL)
    pass_mark = models.DecimalField(_("合格分数线"), max_digits=6, decimal_places=2, default=Decimal("60"))
    max_score = models.DecimalField(_("满分"), max_digits=6, decimal_places=2, default=Decimal("100"))
    opens_on = models.DateField(_("开考日期"))
    closes_on = models.DateField(_("截止日期"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    # the roster's latest change (max Staff.updated_at) when candidates were last brought up to
    # date; while it has not moved, reading figures needs no refresh
    roster_mark = models.DateTimeField(_("名册版本"), null=True, blank=True, editable=False)
    # the unit whose subtree the exam is for: set when a scoped office (a city's or district's
    # legal-affairs office) creates it; its audience then lies within that subtree. None: everyone.
    owner = models.ForeignKey(
        Unit, verbose_name=_("所属单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="owned_exams"
    )
    # a make-up (补考) of this main exam, of the same kind and year: its audience is the main
    # exam's expected candidates who have not passed it, and the main exam's figures count
    # a sitting (or a pass) of either (exams/makeup.py)
    makeup_of = models.ForeignKey(
        "self", verbose_name=_("补考所属考试"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="makeups",
    )

    class Meta:
        verbose_name = _("考试")
        verbose_name_plural = _("考试")
        ordering = ["-year", "-opens_on", "-id"]
        constraints = [
            # a script that runs create_exam twice must not make two exams
            models.UniqueConstraint(fields=["year", "kind", "name"], name="exam_unique_name"),
            # a main exam has at most one make-up
            models.UniqueConstraint(fields=["makeup_of"], name="exam_one_makeup"),
            models.CheckConstraint(condition=Q(opens_on__lte=F("closes_on")), name="exam_window_ordered"),
            models.CheckConstraint(condition=Q(max_score__gt=0), name="exam_max_score_positive"),
            models.CheckConstraint(
                condition=Q(pass_mark__gte=0, pass_mark__lte=F("max_score")), name="exam_pass_mark_in_range"
            ),
        ]
        indexes = [
            # the exams whose window has not closed, refreshed after every roster change
            models.Index(fields=["closes_on"], name="exam_closes_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.year} 年 {self.name}"

    @property
    def is_makeup(self) -> bool:
        return self.makeup_of_id is not None

    def is_open(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.opens_on <= today <= self.closes_on

    def is_closed(self, today: dt.date | None = None) -> bool:
        """Past its window: candidates' units and the leaver and joiner rules are frozen."""
        return (today or timezone.localdate()) > self.closes_on

    def window_state(self, today: dt.date | None = None) -> str:
        today = today or timezone.localdate()
        if today < self.opens_on:
            return str(_("未开始"))
        return str(_("已结束")) if today > self.closes_on else str(_("进行中"))


class EnrolledVia(models.TextChoices):
    AUDIENCE = "audience", _("创建考试时按应考范围")
    JOINER = "joiner", _("考试期间新进入应考范围")
    RESULT = "result", _("成绩导入")
    EXEMPTION = "exemption", _("免考名单导入")


class Candidate(models.Model):
    # Candidates are written only set-based, by INSERT .. SELECT from the exam and the staff
    # rows themselves. The database checks the staff link; the exam and unit links are kept
    # by Django (CASCADE / PROTECT act in the ORM either way) because PostgreSQL's per-row
    # foreign-key triggers would more than double the time to enrol 200,000 candidates.
    # exam_id alone is served by the (exam, staff) and (exam, unit) indexes.
    exam = models.ForeignKey(
        Exam, verbose_name=_("考试"), on_delete=models.CASCADE, related_name="candidates", db_index=False,
        db_constraint=False,
    )
    staff = models.ForeignKey(Staff, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="candidacies")
    # the staff member's unit while the exam was open; frozen once it closes
    unit = models.ForeignKey(
        Unit, verbose_name=_("所在单位"), on_delete=models.PROTECT, related_name="+", db_index=False,
        db_constraint=False,
    )
    exempt = models.BooleanField(_("免考"), default=False)
    exempt_reason = models.CharField(_("免考原因"), max_length=200, blank=True, default="", validators=[validate_no_control_chars])
    best_score = models.DecimalField(_("最好成绩"), max_digits=6, decimal_places=2, null=True, blank=True)
    attempt_count = models.PositiveIntegerField(_("参考次数"), default=0)
    passed = models.BooleanField(_("合格"), default=False)
    # on a main exam's candidate: the same person's best score and pass in the exam's make-up
    # (None / False when there is none), copied set-based whenever the make-up's scores change,
    # so that the figures stay one aggregate over the main exam's candidates
    makeup_score = models.DecimalField(_("补考成绩"), max_digits=6, decimal_places=2, null=True, blank=True)
    makeup_passed = models.BooleanField(_("补考合格"), default=False, db_default=False)
    # the day the staff member left the roster, as seen while the exam was open; frozen after
    left_on = models.DateField(_("离册日期"), null=True, blank=True)
    enrolled_via = models.CharField(_("登记方式"), max_length=16, choices=EnrolledVia.choices, default=EnrolledVia.AUDIENCE)
    enrolled_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("考生")
        verbose_name_plural = _("考生")
        # plain columns: a default ordering through joins would slow every query on candidates
        ordering = ["exam_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["exam", "staff"], name="candidate_once_per_exam"),
        ]
        indexes = [
            # per-unit figures and the not-sat list of a unit's subtree
            models.Index(fields=["exam", "unit"], name="candidate_exam_unit_idx"),
            # the not-sat list and its count, for a subtree of a province's exam: only the rows
            # not sat yet, with what the not-sat rule still reads (exams.selectors.exam_not_sat)
            models.Index(fields=["exam", "unit"], include=["left_on"], name="candidate_not_sat_idx",
                         condition=Q(exempt=False, best_score__isnull=True, makeup_score__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} @ {self.exam_id}"

    @property
    def has_sat(self) -> bool:
        return self.best_score is not None

    @property
    def sat_either(self) -> bool:
        """Sat this exam or its make-up."""
        return self.best_score is not None or self.makeup_score is not None

    def left_before_close(self) -> bool:
        return self.left_on is not None and self.left_on <= self.exam.closes_on

    def is_expected(self) -> bool:
        return not self.exempt and not (self.left_before_close() and not self.has_sat)

    def state_label(self) -> str:
        if self.exempt:
            return str(_("免考"))
        if self.sat_either:
            return str(_("合格")) if (self.passed or self.makeup_passed) else str(_("不合格"))
        if self.left_before_close():
            return str(_("考试截止前离册"))
        return str(_("未参考"))


class Attempt(models.Model):
    # As for candidates: the database checks the link to the candidate; the exam (a copy of
    # the candidate's) and the import record are kept by Django, so that a 200,000-row import
    # does not pay three foreign-key triggers per row.
    exam = models.ForeignKey(
        Exam, verbose_name=_("考试"), on_delete=models.CASCADE, related_name="attempts", db_constraint=False
    )
    candidate = models.ForeignKey(Candidate, verbose_name=_("考生"), on_delete=models.CASCADE, related_name="attempts")
    score = models.DecimalField(_("成绩"), max_digits=6, decimal_places=2)
    taken_at = models.DateTimeField(_("交卷时间"), null=True, blank=True)
    import_record = models.ForeignKey(
        ImportRecord, verbose_name=_("导入记录"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_constraint=False,
    )
    row_number = models.PositiveIntegerField(_("文件行号"), null=True, blank=True)
    created_at = models.DateTimeField(_("导入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("考试记录")
        verbose_name_plural = _("考试记录")
        ordering = ["candidate_id", "taken_at", "id"]
        constraints = [
            # importing the same file twice records each sitting once: by (candidate, score,
            # time), or by (candidate, score) where the file had no time
            models.UniqueConstraint(
                fields=["candidate", "score", "taken_at"], condition=Q(taken_at__isnull=False), name="attempt_once_timed"
            ),
            models.UniqueConstraint(
                fields=["candidate", "score"], condition=Q(taken_at__isnull=True), name="attempt_once_untimed"
            ),
            models.CheckConstraint(condition=Q(score__gte=0), name="attempt_score_not_negative"),
        ]
        # the foreign keys' own indexes serve the rest: attempts by exam (admin), by candidate
        # (best score), by import record (the candidates an import touched)

    def __str__(self) -> str:
        return f"{self.score}"


EXAM_IMPORT_KINDS = (ImportKind.EXAM_RESULTS, ImportKind.EXAM_EXEMPTIONS)


class ExamImportManager(models.Manager):
    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(kind__in=EXAM_IMPORT_KINDS)


class ExamImport(ImportRecord):
    """The exam imports among the shared import records (for the admin)."""

    objects = ExamImportManager()

    class Meta:
        proxy = True
        verbose_name = _("考试导入记录")
        verbose_name_plural = _("考试导入记录")
