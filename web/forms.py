"""The pages' forms. They only shape and type-check input; rules live in the services, and the
units a form offers come from the caller's scope."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.forms import ThrottledLoginMixin
from exams.models import Audience as ExamAudience
from exams.models import Exam, ExamKind
from reminders.models import ROBOTS, Channel, MessageStatus
from roster.models import SyncMode, Unit
from roster.ordering import unit_order
from training.models import AttendanceStatus, TrainingKind

ON_ERROR_CHOICES = [
    ("strict", _("严格：有任何错误行，整份文件都不同步")),
    ("skip", _("跳过错误行，其余行照常同步")),
]


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    """Django's login form, with wrong passwords counted by account and by address exactly as
    the API's token endpoint counts them (the same service)."""

    error_messages = {
        "invalid_login": _("用户名或密码错误。"),
        "inactive": _("该账号已停用。"),
    }


def _check_size(upload: Any) -> Any:
    if upload is not None and upload.size > settings.SHEETS_MAX_BYTES:
        raise ValidationError(_("文件超过大小上限（%(mb)s MB）。") % {"mb": settings.SHEETS_MAX_BYTES // (1024 * 1024)})
    if upload is not None and upload.size == 0:
        raise ValidationError(_("文件是空的。"))
    return upload


SHEET_ACCEPT = ".xlsx,.xls,.csv,.txt"


class SheetField(forms.FileField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": SHEET_ACCEPT}))
        kwargs.setdefault("help_text", _("Excel（.xlsx）或 CSV 文件"))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        return _check_size(super().clean(data, initial))


class RosterUploadForm(forms.Form):
    file = SheetField(label=_("名册文件"))
    mode = forms.ChoiceField(
        label=_("同步方式"),
        choices=[(SyncMode.FULL, _("全量：文件是完整名册，文件中没有的在册人员将被停用")),
                 (SyncMode.PARTIAL, _("增量：只新增和更新文件中的人员，不停用任何人"))],
        initial=SyncMode.FULL,
        widget=forms.RadioSelect,
    )
    on_error = forms.ChoiceField(label=_("遇到错误行"), choices=ON_ERROR_CHOICES, initial="strict", widget=forms.RadioSelect)
    allow_mass_deactivation = forms.BooleanField(
        label=_("允许大批停用"), required=False,
        help_text=_("全量同步将停用的人数超过在册人员的保护比例时，仍然同步。"),
    )


class ImportUploadForm(forms.Form):
    file = SheetField(label=_("文件"))
    strict = forms.BooleanField(
        label=_("严格模式"), required=False, help_text=_("有任何问题行（无法匹配、冲突、无效）时整份文件都不导入。")
    )


class SheetUploadForm(forms.Form):
    file = SheetField(label=_("签到表"))


class DateInput(forms.DateInput):
    input_type = "date"


class ExamForm(forms.Form):
    name = forms.CharField(label=_("考试名称"), max_length=200)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    kind = forms.ChoiceField(label=_("考试类型"), choices=ExamKind.choices, initial=ExamKind.ANNUAL_LAW)
    audience = forms.ChoiceField(
        label=_("应考范围"), choices=[("", _("按考试类型的默认范围")), *ExamAudience.choices], required=False
    )
    pass_mark = forms.DecimalField(label=_("合格分数线"), max_digits=6, decimal_places=2, initial=Decimal("60"))
    max_score = forms.DecimalField(label=_("满分"), max_digits=6, decimal_places=2, initial=Decimal("100"))
    opens_on = forms.DateField(label=_("开考日期"), widget=DateInput, required=False, help_text=_("留空为当年 1 月 1 日"))
    closes_on = forms.DateField(label=_("截止日期"), widget=DateInput, required=False, help_text=_("留空为当年 12 月 31 日"))
    makeup_of = forms.ModelChoiceField(
        label=_("补考所属考试"), queryset=Exam.objects.none(), required=False, empty_label=_("不是补考"),
        help_text=_("选择后本考试为该考试的补考：类型、年度须与之相同，考生为该考试应考而未合格的人员"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year
        # exams that may take a make-up: not make-ups themselves, without one yet
        self.fields["makeup_of"].queryset = Exam.objects.filter(makeup_of__isnull=True, makeups__isnull=True)


def unit_label(unit: Unit) -> str:
    return f"{'　' * max(unit.depth, 0)}{unit.name}（{unit.code}）"


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return unit_label(obj)


class EventForm(forms.Form):
    title = forms.CharField(label=_("名称"), max_length=200)
    kind = forms.ChoiceField(label=_("类型"), choices=TrainingKind.choices, initial=TrainingKind.LECTURE)
    date = forms.DateField(label=_("日期"), widget=DateInput(format="%Y-%m-%d"))
    hours = forms.DecimalField(label=_("学时"), max_digits=5, decimal_places=2, min_value=Decimal("0.01"),
                               help_text=_("每位参加者计入的学时，可以是小数，例如 1.5"))
    organiser = UnitChoiceField(label=_("主办单位"), queryset=Unit.objects.none(), required=False)
    speaker = forms.CharField(label=_("主讲人"), max_length=200, required=False)
    location = forms.CharField(label=_("地点"), max_length=200, required=False)
    signin_rotates = forms.BooleanField(
        label=_("签到二维码定时更换"), required=False, initial=True,
        help_text=_("会场投屏的二维码每 30 秒更换，截图转发无效。线上活动请取消勾选，使用固定链接。"),
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], organiser_required: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organiser"]
        field.queryset = units.filter(is_active=True).order_by(*unit_order())
        field.required = organiser_required
        field.empty_label = _("（全区）") if not organiser_required else None
        self.fields["date"].initial = timezone.localdate()


# --- corrections (an exam, an event, an attendance status, an exemption) -----------------

REASON_HELP = _("记入审计记录。请勿填写身份证号。")
REASON_LABEL = _("原因")


def reason_field(*, required: bool = False, label: Any = REASON_LABEL) -> forms.CharField:
    return forms.CharField(label=label, max_length=200, required=required, help_text=REASON_HELP,
                           widget=forms.TextInput(attrs={"size": 60}))


class ExamEditForm(forms.Form):
    """An exam's name, window and scoring; its kind, year and audience stay as created."""

    name = forms.CharField(label=_("考试名称"), max_length=200)
    opens_on = forms.DateField(label=_("开考日期"), widget=DateInput(format="%Y-%m-%d"))
    closes_on = forms.DateField(label=_("截止日期"), widget=DateInput(format="%Y-%m-%d"))
    pass_mark = forms.DecimalField(label=_("合格分数线"), max_digits=6, decimal_places=2,
                                   help_text=_("修改后按新分数线重新判定每位考生是否合格"))
    max_score = forms.DecimalField(label=_("满分"), max_digits=6, decimal_places=2)
    reason = reason_field()

    @classmethod
    def for_exam(cls, exam: Exam, data: Any = None) -> ExamEditForm:
        return cls(data, initial={"name": exam.name, "opens_on": exam.opens_on, "closes_on": exam.closes_on,
                                  "pass_mark": exam.pass_mark, "max_score": exam.max_score})


class ReasonForm(forms.Form):
    """A confirmation page's one field: why (required where the page says so)."""

    reason = reason_field()

    def __init__(self, *args: Any, required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required


class ExemptionAddForm(forms.Form):
    staff_no = forms.CharField(label=_("工号"), max_length=32)
    reason = reason_field(required=True, label=_("免考原因"))


class AttendanceStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("出勤情况"), choices=AttendanceStatus.choices)
    reason = reason_field()


def year_choices(years: Iterable[int]) -> list[tuple[int, str]]:
    return [(y, _("%(year)s 年") % {"year": y}) for y in sorted(set(years), reverse=True)]


# --- reminders --------------------------------------------------------------------------


class ReminderFilterForm(forms.Form):
    """The filters of 提醒记录 (GET): an unknown value is ignored, like an empty one."""

    exam = forms.TypedChoiceField(label=_("考试"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部")), *MessageStatus.choices])
    channel = forms.ChoiceField(label=_("渠道"), required=False, choices=[("", _("全部")), *Channel.choices])

    def __init__(self, *args: Any, exams: QuerySet[Exam], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exam"].choices = [("", _("全部")), *((e.pk, str(e)) for e in exams)]


class ReminderSendForm(forms.Form):
    exam = forms.ModelChoiceField(label=_("考试"), queryset=Exam.objects.none(), empty_label=None)
    dry_run = forms.BooleanField(label=_("试运行"), required=False,
                                 help_text=_("不发送、不记录，只列出将发送的消息。"))
    force = forms.BooleanField(label=_("本周已发送的也再发送一次"), required=False)

    def __init__(self, *args: Any, exams: QuerySet[Exam], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exam"].queryset = exams


class UnitRobotForm(forms.Form):
    unit = UnitChoiceField(label=_("单位"), queryset=Unit.objects.none(), empty_label=None)
    channel = forms.ChoiceField(label=_("渠道"), choices=[(c.value, c.label) for c in ROBOTS])
    url = forms.CharField(label=_("Webhook 地址"), max_length=2000, widget=forms.PasswordInput(render_value=False),
                          help_text=_("只接受 http/https；保存后只显示主机名。"))
    secret = forms.CharField(label=_("加签密钥"), max_length=200, required=False,
                             widget=forms.PasswordInput(render_value=False), help_text=_("仅钉钉机器人，可不填。"))

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
