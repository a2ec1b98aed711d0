"""Training events, who attended them, and the yearly study-hours requirement."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.text import validate_no_control_chars
from roster.models import Staff, Unit

DEFAULT_REQUIRED_HOURS = Decimal("40")


def new_signin_token() -> str:
    # 32 URL-safe characters, 192 bits: the sign-in URL cannot be guessed or enumerated
    return secrets.token_urlsafe(24)


class TrainingKind(models.TextChoices):
    EXECUTIVE_MEETING = "executive_meeting", _("常务会学法")
    STUDY_SESSION = "study_session", _("法治专题学习")
    LECTURE = "lecture", _("法治讲座")
    COURT_OBSERVATION = "court_observation", _("旁听庭审")
    ENFORCEMENT_TRAINING = "enforcement_training", _("执法培训")
    ONLINE_COURSE = "online_course", _("网络课程")
    LEADER_LAW_REPORT = "leader_law_report", _("述法")
    COURT_APPEARANCE = "court_appearance", _("出庭应诉")


class EventKind(models.Model):
    """A kind of training event, as data: the codes are a contract (sign-in sheets, the API,
    the annual report name them), so a code is never renamed; the name, whether the kind
    counts study hours, the hours an event of it gets by default and the order it is listed
    in may be edited in the admin. ``TrainingKind`` lists the codes seeded by the migration."""

    code = models.SlugField(_("代码"), max_length=32, unique=True, help_text=_("英文代码，创建后不可更改，例如 lecture。"))
    name = models.CharField(_("名称"), max_length=50, validators=[validate_no_control_chars])
    counts_hours = models.BooleanField(_("计入学时"), default=True)
    default_hours = models.DecimalField(
        _("默认学时"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))], help_text=_("新建这一类型的活动时预填的学时。"),
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("培训类型")
        verbose_name_plural = _("培训类型")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


def kind_choices() -> list[tuple[str, str]]:
    """The event kinds of the kinds table, in their order (the choices of ``TrainingEvent.kind``,
    of the forms and of the API; read through the labels' cache, since a list page asks for
    them once per row); before the table exists (migrations), the seeded codes."""
    return list(kind_labels().items())


def _kinds_from_table() -> list[tuple[str, str]]:
    from django.db.utils import DatabaseError

    try:
        rows = list(EventKind.objects.order_by("sort_order", "code").values_list("code", "name"))
    except DatabaseError:
        rows = []
    return rows or [(code, str(label)) for code, label in TrainingKind.choices]


# the labels for renderers (a learning file names a kind on every row): read at most once a
# minute per process, and again at once in the process that edits a kind (signals below)
_LABELS_SECONDS = 60
_labels_cache: dict[str, object] = {"at": 0.0, "labels": None}


def kind_labels(*, fresh: bool = False) -> dict[str, str]:
    """code -> name of every kind in the kinds table (see ``kind_choices``)."""
    import time

    now = time.monotonic()
    if fresh or _labels_cache["labels"] is None or now - float(_labels_cache["at"]) > _LABELS_SECONDS:
        _labels_cache["labels"] = dict(_kinds_from_table())
        _labels_cache["at"] = now
    return dict(_labels_cache["labels"])  # type: ignore[arg-type]


def kind_label(code: str) -> str:
    return kind_labels().get(code, code)


def kind_order() -> dict[str, int]:
    """code -> position, in the kinds table's order (unknown codes go last)."""
    return {code: i for i, code in enumerate(kind_labels())}


@receiver([post_save, post_delete], sender=EventKind, dispatch_uid="training-kind-labels")
def _kinds_changed(**kwargs: object) -> None:
    _labels_cache["labels"] = None


class Audience(models.TextChoices):
    DISTRICT = "district", _("全区人员")
    UNITS = "units", _("指定单位")
    UNIT_HEADS = "unit_heads", _("单位主要负责人")


class TrainingEvent(models.Model):
    title = models.CharField(_("名称"), max_length=200, validators=[validate_no_control_chars])
    # the code of an ``EventKind`` (validated against the kinds table; the values are a contract)
    kind = models.CharField(_("类型"), max_length=32, choices=kind_choices)
    date = models.DateField(_("日期"))
    hours = models.DecimalField(
        _("学时"), max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("每位参加者计入的学时，可以是小数，例如 1.5。"),
    )
    organiser = models.ForeignKey(
        Unit, verbose_name=_("主办单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="organised_trainings"
    )
    speaker = models.CharField(_("主讲人"), max_length=200, blank=True, default="", validators=[validate_no_control_chars])
    location = models.CharField(_("地点"), max_length=200, blank=True, default="", validators=[validate_no_control_chars])
    audience = models.CharField(_("参加对象"), max_length=16, choices=Audience.choices, default=Audience.DISTRICT)
    audience_units = models.ManyToManyField(
        Unit, verbose_name=_("参加单位"), blank=True, related_name="invited_trainings",
        help_text=_("参加对象为“指定单位”时列出的单位（含下级单位）。"),
    )
    signin_token = models.CharField(_("签到令牌"), max_length=64, unique=True, default=new_signin_token, editable=False)
    signin_opens_at = models.DateTimeField(
        _("签到开始时间"), null=True, blank=True, help_text=_("留空则为活动当天 0 点。")
    )
    signin_closes_at = models.DateTimeField(
        _("签到截止时间"), null=True, blank=True, help_text=_("留空则为活动当天 24 点。")
    )
    signin_rotates = models.BooleanField(
        _("签到二维码定时更换"), default=True,
        help_text=_("会场投屏的二维码每隔一段时间更换，转发出去的截图一分钟内失效。线上活动可关闭，使用固定链接。"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("培训活动")
        verbose_name_plural = _("培训活动")
        ordering = ["-date", "-id"]
        constraints = [
            # the sign-in sheet import finds an event by its title and date
            models.UniqueConstraint(fields=["title", "date"], name="training_event_title_date"),
            models.CheckConstraint(condition=models.Q(hours__gt=0), name="training_event_hours_positive"),
        ]
        indexes = [
            # a year's events by kind (training_stats, the annual report)
            models.Index(fields=["date", "kind"], name="training_event_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.date:%Y-%m-%d}）"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.signin_opens_at and self.signin_closes_at and self.signin_closes_at <= self.signin_opens_at:
            raise ValidationError({"signin_closes_at": _("签到截止时间必须晚于签到开始时间。")})

    def signin_window(self) -> tuple[dt.datetime, dt.datetime]:
        """When QR sign-in is open: the set window, else the whole event day (local time)."""
        zone = timezone.get_default_timezone()
        day_start = timezone.make_aware(dt.datetime.combine(self.date, dt.time.min), zone)
        opens = self.signin_opens_at or day_start
        closes = self.signin_closes_at or day_start + dt.timedelta(days=1)
        return opens, closes

    def signin_is_open(self, now: dt.datetime | None = None) -> bool:
        opens, closes = self.signin_window()
        now = now or timezone.now()
        return opens <= now < closes


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("出席")
    LATE = "late", _("迟到")
    EXCUSED = "excused", _("请假")
    ABSENT = "absent", _("缺席")


# the statuses that count as having attended (人次, 学时)
ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


class AttendanceSource(models.TextChoices):
    SHEET = "sheet", _("签到表导入")
    QR = "qr", _("扫码签到")
    MANUAL = "manual", _("手工录入")


class Attendance(models.Model):
    event = models.ForeignKey(TrainingEvent, verbose_name=_("培训活动"), on_delete=models.CASCADE, related_name="attendances")
    staff = models.ForeignKey(Staff, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="attendances")
    # the unit the person belonged to on the event's date: past years' per-unit figures stay put
    unit = models.ForeignKey(Unit, verbose_name=_("所在单位（活动当日）"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("出勤情况"), max_length=16, choices=AttendanceStatus.choices, default=AttendanceStatus.PRESENT)
    signed_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=AttendanceSource.choices)
    import_record = models.ForeignKey(
        "sheets.ImportRecord", verbose_name=_("导入记录"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("出勤记录")
        verbose_name_plural = _("出勤记录")
        ordering = ["event_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "staff"], name="attendance_event_staff"),
        ]
        indexes = [
            # a person's hours in a year (hours_below)
            models.Index(fields=["staff", "status"], name="attendance_staff_idx"),
            # per-unit figures over the frozen unit (training_stats --unit)
            models.Index(fields=["unit", "status"], name="attendance_unit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}/{self.staff_id} {self.get_status_display()}"


class StudyHoursRequirement(models.Model):
    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    hours = models.DecimalField(
        _("应修学时"), max_digits=6, decimal_places=2, default=DEFAULT_REQUIRED_HOURS,
        validators=[MinValueValidator(Decimal("0"))],
    )
    note = models.CharField(_("备注"), max_length=200, blank=True, default="", validators=[validate_no_control_chars])

    class Meta:
        verbose_name = _("年度学时要求")
        verbose_name_plural = _("年度学时要求")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 年：{self.hours} 学时"



class TrainingTarget(models.Model):
    """The study hours a year requires of one 人员类别 (the roster's ``Staff.category``); the
    row without a category is the default for everyone else. Without any row for the year,
    the year's ``StudyHoursRequirement`` (else 40) applies, as before."""

    year = models.PositiveSmallIntegerField(_("年度"), validators=[MinValueValidator(2000)])
    category = models.CharField(
        _("人员类别"), max_length=100, null=True, blank=True, validators=[validate_no_control_chars],
        help_text=_("名册中的人员类别，须与名册一致；留空为所有其他人员的默认要求。"),
    )
    hours = models.DecimalField(_("应修学时"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        verbose_name = _("学时要求（按人员类别）")
        verbose_name_plural = _("学时要求（按人员类别）")
        ordering = ["-year", "category"]
        constraints = [
            models.UniqueConstraint(fields=["year", "category"], name="training_target_year_category"),
            # one default row per year (NULLs are distinct in a unique constraint)
            models.UniqueConstraint(fields=["year"], condition=models.Q(category__isnull=True),
                                    name="training_target_year_default"),
            models.CheckConstraint(condition=~models.Q(category=""), name="training_target_category_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.year} 年 {self.category or '默认'}：{self.hours} 学时"
