"""JSON shapes of the API. Serializers only shape and type-check; rules live in services, and
what a caller may see comes from the scope in the serializer's context."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from access.scoping import Scope
from exams.models import Audience as ExamAudience
from exams.models import Candidate, Exam, ExamKind
from reminders.models import ReminderJob, ReminderMessage
from roster.models import RosterSync, Staff, SyncKind, SyncMode, Unit
from sheets.models import ImportRecord
from training.models import Attendance, AttendanceStatus, TrainingEvent, TrainingKind, kind_labels
from training.models import Audience as TrainingAudience


class KeepBlankFormValueMixin:
    """In a form, a field sent empty is refused like any other wrong value (DRF would take the
    default instead, accepting what the schema does not allow)."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            return dictionary.get(self.field_name)
        return super().get_value(dictionary)


class StrictChoiceField(KeepBlankFormValueMixin, serializers.ChoiceField):
    pass


class StrictBooleanField(KeepBlankFormValueMixin, serializers.BooleanField):
    """A boolean as the schema declares it: JSON true/false, or in a form the words
    "true"/"false". Other spellings (1, "yes", "0") are refused rather than guessed."""

    def __init__(self, *, form: bool = False, **kwargs: Any) -> None:
        self.form = form
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):  # JSON; a form's values are always strings
            return data
        if self.form and isinstance(data, str) and data.lower() in ("true", "false"):
            return data.lower() == "true"
        self.fail("invalid", input=data)


# --- auth -------------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="在请求头中发送：Authorization: Token <token>")


# --- units ------------------------------------------------------------------------------


class UnitSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True, help_text="上级单位代码")

    class Meta:
        model = Unit
        fields = ["code", "name", "parent", "kind", "is_active", "depth", "sort_order"]
        read_only_fields = fields


# --- staff ------------------------------------------------------------------------------


class StaffSerializer(serializers.ModelSerializer):
    """A staff member as the caller may see them: ID number always masked (unless revealed by
    hr with a reason), phone in full or masked according to the scope."""

    unit = serializers.CharField(source="unit.code", read_only=True, help_text="单位代码")
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    id_number = serializers.SerializerMethodField(help_text="身份证号，脱敏显示：450203********123X")
    phone = serializers.SerializerMethodField(help_text="手机号：本人所在范围内显示完整号码，否则只显示后 4 位")

    class Meta:
        model = Staff
        fields = [
            "staff_no", "name", "gender", "unit", "unit_name", "position", "category", "is_head",
            "enforcement_cert", "id_number", "phone", "is_active", "joined_on", "left_on",
        ]
        read_only_fields = fields

    @property
    def scope(self) -> Scope:
        return self.context["scope"]

    @extend_schema_field(serializers.CharField())
    def get_id_number(self, staff: Staff) -> str | None:
        revealed = self.context.get("revealed_id_number")
        if revealed is not None:
            return revealed
        return self.scope.id_number_for(staff)

    @extend_schema_field(serializers.CharField())
    def get_phone(self, staff: Staff) -> str | None:
        return self.scope.phone_for(staff)

    def to_representation(self, instance: Staff) -> dict[str, Any]:
        data = super().to_representation(instance)
        # a caller who sees no personal data gets no such keys at all
        for key in ("id_number", "phone"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


@extend_schema_field(serializers.CharField(max_length=32))
class _UnitCodeField(serializers.SlugRelatedField):
    """A unit given by its code, among the units the caller may see."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="code", **kwargs)

    def get_queryset(self):
        return self.context["scope"].units()

    def run_validation(self, data=serializers.empty):
        # DRF turns "" into null for a related field; the schema says a code is at least one
        # character, and null (where allowed) is how "no unit" is said
        if data == "":
            raise serializers.ValidationError("单位代码不能为空；不指定单位请用 null。", code="blank")
        return super().run_validation(data)

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


GENDERS = [("男", "男"), ("女", "女")]


class StaffCreateSerializer(serializers.Serializer):
    staff_no = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=100)
    id_number = serializers.CharField(max_length=18, min_length=18, help_text="18 位身份证号（完整）")
    unit = _UnitCodeField(help_text="单位代码")
    gender = serializers.ChoiceField(choices=GENDERS, required=False, help_text="不填时按身份证号推定")
    position = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    is_head = StrictBooleanField(required=False, default=False)
    enforcement_cert = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class StaffUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    id_number = serializers.CharField(max_length=18, min_length=18, required=False, help_text="18 位身份证号（完整）")
    unit = _UnitCodeField(required=False, help_text="单位代码")
    gender = serializers.ChoiceField(choices=GENDERS, required=False)
    position = serializers.CharField(max_length=200, required=False, allow_blank=True)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_head = StrictBooleanField(required=False)
    enforcement_cert = serializers.CharField(max_length=64, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    is_active = StrictBooleanField(required=False)


class RevealQuerySerializer(serializers.Serializer):
    reveal = serializers.ChoiceField(choices=[("id_number", "id_number")], required=False)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("reveal") and not attrs.get("reason", "").strip():
            raise serializers.ValidationError({"reason": "查看完整身份证号必须说明理由（reason）。"})
        return attrs


# --- jobs -------------------------------------------------------------------------------


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class ProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="文件中的行号；整个文件的问题为 null")
    column = serializers.CharField(allow_null=True)
    value = serializers.CharField(allow_null=True, help_text="出错的值（身份证号脱敏）")
    message = serializers.CharField()
    kind = serializers.CharField(help_text="invalid / unmatched / conflict / ambiguous / duplicate")


class SyncCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    deactivated = serializers.IntegerField()
    reactivated = serializers.IntegerField()
    rejected = serializers.IntegerField()


class UndoConflictSerializer(serializers.Serializer):
    staff_no = serializers.CharField()
    field = serializers.CharField(help_text="name、gender、unit、id_number、position、category、is_head、"
                                            "enforcement_cert、phone 或 is_active")
    synced_value = serializers.CharField(help_text="该同步写入的值（身份证号、手机号脱敏）")
    current_value = serializers.CharField(help_text="现在的值（身份证号、手机号脱敏）")


class UndoRevertedSerializer(serializers.Serializer):
    updated = serializers.IntegerField()
    reactivated = serializers.IntegerField()
    deactivated = serializers.IntegerField()


class UndoOutcomeSerializer(serializers.Serializer):
    reverted = UndoRevertedSerializer()
    conflicts = UndoConflictSerializer(many=True)
    conflict_count = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="跳过的冲突数（skip_conflicts）")


class RosterSyncSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    counts = SyncCountsSerializer(source="*", read_only=True)
    errors = ProblemSerializer(many=True, read_only=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)
    undo = serializers.SerializerMethodField(help_text="撤销记录（kind: undo）的结果；同步记录为 null")

    class Meta:
        model = RosterSync
        fields = [
            "id", "kind", "undoes", "status", "message", "file_name", "source", "mode", "dry_run", "skip_invalid",
            "allow_mass_deactivation", "skip_conflicts", "applied", "rows", "progress", "counts", "errors", "warnings",
            "undo", "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, instance: RosterSync) -> dict[str, int]:
        return instance.progress()

    @extend_schema_field(UndoOutcomeSerializer(allow_null=True))
    def get_undo(self, instance: RosterSync) -> dict[str, Any] | None:
        if instance.kind != SyncKind.UNDO:
            return None
        preview = instance.preview or {}
        return {
            "reverted": {"updated": instance.updated, "reactivated": instance.reactivated,
                         "deactivated": instance.deactivated},
            "conflicts": preview.get("conflicts", []),
            "conflict_count": preview.get("conflict_count", 0),
            "skipped": preview.get("skipped", 0),
        }


class RosterUndoSerializer(serializers.Serializer):
    dry_run = StrictBooleanField(form=True, default=False, help_text="试运行：只报告将还原什么与冲突")
    skip_conflicts = StrictBooleanField(form=True, default=False,
                                        help_text="跳过冲突（其后又被修改的字段），撤销其余改动")


class RosterSyncCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=f"CSV 或 XLSX 名册文件，不超过 {settings.SHEETS_MAX_BYTES // (1024 * 1024)} MB")
    mode = StrictChoiceField(choices=SyncMode.choices, default=SyncMode.FULL,
                                   help_text="full：全量（文件中没有的在册人员将停用）；partial：增量")
    dry_run = StrictBooleanField(form=True, default=False, help_text="试运行：只报告将发生的变化")
    skip_invalid = StrictBooleanField(form=True, default=False, help_text="跳过有错误的行，应用其余行")
    allow_mass_deactivation = StrictBooleanField(form=True, default=False,
                                                 help_text="允许停用超过保护上限比例的人员")

    def validate_file(self, value):
        if value.size > settings.SHEETS_MAX_BYTES:
            raise serializers.ValidationError(f"文件超过大小上限（{settings.SHEETS_MAX_BYTES // (1024 * 1024)} MB）。")
        return value


class ImportRecordSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    counts = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    problems = ProblemSerializer(many=True, read_only=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ImportRecord
        fields = [
            "id", "kind", "target_id", "status", "message", "file_name", "rows", "applied", "progress",
            "counts", "problems", "warnings", "created_at", "started_at", "finished_at", "voided_at", "void_reason",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, instance: ImportRecord) -> dict[str, int]:
        return instance.progress()


class ImportVoidSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(default=False, help_text="试运行：只报告将删除和保留多少，不作改动")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500,
                                   help_text="撤销原因（记入导入记录和审计日志）")


class ImportVoidRemovedSerializer(serializers.Serializer):
    attempts = serializers.IntegerField()
    exemptions = serializers.IntegerField()
    attendances = serializers.IntegerField()


class ImportVoidResultSerializer(serializers.Serializer):
    import_id = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    removed = ImportVoidRemovedSerializer()
    kept = serializers.IntegerField(help_text="本次导入提供、但其他未撤销的导入也提供过（或原已存在）而保留的记录数")



# --- uploads ----------------------------------------------------------------------------


class SheetUploadSerializer(serializers.Serializer):
    """A spreadsheet upload, within the size limit of every import."""

    file = serializers.FileField(help_text=f"CSV 或 XLSX 文件，不超过 {settings.SHEETS_MAX_BYTES // (1024 * 1024)} MB")

    def validate_file(self, value):
        if value.size > settings.SHEETS_MAX_BYTES:
            raise serializers.ValidationError(f"文件超过大小上限（{settings.SHEETS_MAX_BYTES // (1024 * 1024)} MB）。")
        return value


class ResultsUploadSerializer(SheetUploadSerializer):
    strict = StrictBooleanField(form=True, default=False, help_text="严格模式：任何一行有问题则不导入任何成绩")


# --- JSON input typed as the schema says ------------------------------------------------
# DRF is lenient: a number for a text field, "2026" for an integer, "20260101" for a date.
# These fields take exactly the types and forms the OpenAPI schema declares, and refuse the
# rest with a 400, so that what the schema calls invalid is never accepted.


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def _decimal_pattern(*, whole: int, places: int, minimum: Decimal | None) -> str:
    """Text that reads as a decimal of at most ``whole`` digits before the point and ``places``
    after it, and (for a minimum of 0 or more) at least that minimum: what the schema's pattern
    promises is exactly what the field accepts. Only the minimums 0 and 10**-places occur."""
    number = rf"(?:0|[1-9]\d{{0,{whole - 1}}})(?:\.\d{{0,{places}}})?"
    if minimum is None:
        return rf"^-?{number}$"
    if minimum == 0:
        return rf"^{number}$"
    assert minimum == Decimal(1).scaleb(-places), minimum
    fraction = "|".join(rf"\.0{{{zeros}}}[1-9]\d{{0,{places - zeros - 1}}}" for zeros in range(places))
    return rf"^(?:[1-9]\d{{0,{whole - 1}}}(?:\.\d{{0,{places}}})?|0?(?:{fraction}))$"


def strict_decimal(*, max_digits: int, decimal_places: int, **kwargs: Any) -> serializers.DecimalField:
    """A decimal given as a JSON number or as text like "60" or "1.5" (no exponent, no spaces,
    no leading zeros). A JSON number with more places is rounded half up to ``decimal_places``
    (a float is rarely exact); text may not have more. The schema states the bounds."""
    whole = max_digits - decimal_places
    minimum = kwargs.get("min_value")
    step = Decimal(1).scaleb(-decimal_places)
    largest = Decimal(10) ** whole - step
    maximum = min(kwargs["max_value"], largest) if kwargs.get("max_value") is not None else largest
    kwargs["max_value"] = maximum
    pattern = _decimal_pattern(whole=whole, places=decimal_places, minimum=minimum)
    text = re.compile(pattern)
    number_schema: dict[str, Any] = {"type": "number", "maximum": float(maximum)}
    if minimum is not None:
        number_schema["minimum"] = float(minimum)

    @extend_schema_field({"anyOf": [number_schema, {"type": "string", "pattern": pattern}]})
    class StrictDecimalField(serializers.DecimalField):
        def to_internal_value(self, data: Any) -> Decimal:
            if isinstance(data, bool) or not isinstance(data, (int, float, str)):
                self.fail("invalid")
            if isinstance(data, str) and not text.match(data):
                self.fail("invalid")
            if isinstance(data, float) and math.isfinite(data):
                if not float(minimum if minimum is not None else -maximum) <= data <= float(maximum):
                    self.fail("min_value" if minimum is not None and data < minimum else "max_value",
                              min_value=minimum, max_value=maximum)
                rounded = Decimal(repr(data)).quantize(step, rounding=ROUND_HALF_UP)
                # the number the schema allowed is within the bounds; rounding keeps it there
                rounded = min(max(rounded, minimum if minimum is not None else -maximum), maximum)
                return super().to_internal_value(str(rounded))
            return super().to_internal_value(data)

    return StrictDecimalField(max_digits=max_digits, decimal_places=decimal_places, **kwargs)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")


def _in_our_years(value: Any) -> Any:
    """Dates and times of this system lie in 2000..2100 (before 1901 the time zone would not
    even be the one we write)."""
    if value is not None and not 2000 <= value.year <= 2100:
        raise serializers.ValidationError("日期应在 2000 年到 2100 年之间。")
    return value


# the schema states the years the fields accept (a date's format alone allows 0001..9999)
YEAR_DATE_PATTERN = r"^(?:20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"
YEAR_DATE_TIME_PATTERN = r"^(?:20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}T"


@extend_schema_field({"type": "string", "format": "date", "pattern": YEAR_DATE_PATTERN})
class YearDateField(serializers.DateField):
    """A date written YYYY-MM-DD, in 2000..2100."""

    default_validators = [_in_our_years]

    def to_internal_value(self, value: Any):
        if not isinstance(value, str) or not _DATE.match(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


@extend_schema_field({"type": "string", "format": "date-time", "pattern": YEAR_DATE_TIME_PATTERN})
class YearDateTimeField(serializers.DateTimeField):
    """A time written as RFC 3339 with its offset (2026-05-20T09:00:00+08:00), in 2000..2100."""

    default_validators = [_in_our_years]

    def to_internal_value(self, value: Any):
        if not isinstance(value, str) or not _DATE_TIME.match(value):
            self.fail("invalid", format="YYYY-MM-DDThh:mm:ss+08:00")
        return super().to_internal_value(value)


# --- exams ------------------------------------------------------------------------------


class ExamSerializer(serializers.ModelSerializer):
    is_open = serializers.SerializerMethodField(help_text="今天（北京时间）是否在考试时间内")

    class Meta:
        model = Exam
        fields = ["id", "name", "year", "kind", "audience", "pass_mark", "max_score", "opens_on", "closes_on", "is_open",
                  "makeup_of"]
        read_only_fields = fields
        extra_kwargs = {"makeup_of": {"help_text": "补考所属主考试的编号；不是补考时为 null"}}

    def get_is_open(self, exam: Exam) -> bool:
        return exam.is_open()


class ExamCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    year = StrictIntegerField(min_value=2000, max_value=2100)
    kind = StrictChoiceField(choices=ExamKind.choices)
    audience = StrictChoiceField(choices=ExamAudience.choices, required=False,
                                 help_text="不填时：学法用法考试为 all，执法类考试为 enforcement")
    pass_mark = strict_decimal(max_digits=6, decimal_places=2, min_value=Decimal("0"), required=False,
                               default=Decimal("60"), help_text="合格分数线，默认 60")
    max_score = strict_decimal(max_digits=6, decimal_places=2, min_value=Decimal("0.01"), required=False,
                               default=Decimal("100"), help_text="满分，默认 100")
    opens_on = YearDateField(required=False, help_text="开考日期，默认当年 1 月 1 日")
    closes_on = YearDateField(required=False, help_text="截止日期，默认当年 12 月 31 日")
    makeup_of = StrictIntegerField(
        required=False, allow_null=True, min_value=1,
        help_text="作为该考试（编号）的补考：类型、年度须与之相同；考生为该考试应考而未合格的人员",
    )


FIGURE_HELP = {
    "candidates": "考生（全部登记人数）",
    "exempt": "免考",
    "expected": "应考：考生减免考、减考试截止前离册且未参考者",
    "sat": "实考：应考中至少参加一次考试者",
    "not_sat": "未考：应考 − 实考",
    "passed": "合格：实考中最好成绩不低于合格分数线者",
    "failed": "不合格：实考 − 合格",
    "participation_rate": "参考率：实考 / 应考（无应考时为 null），不四舍五入",
    "pass_rate": "合格率：合格 / 实考（无实考时为 null），不四舍五入",
    "average_score": "平均分：实考者最好成绩的平均（无实考时为 null）",
}


class ExamFiguresSerializer(serializers.Serializer):
    """The figures of ``exams.selectors.exam_stats``, defined once there."""

    candidates = serializers.IntegerField(help_text=FIGURE_HELP["candidates"])
    exempt = serializers.IntegerField(help_text=FIGURE_HELP["exempt"])
    expected = serializers.IntegerField(help_text=FIGURE_HELP["expected"])
    sat = serializers.IntegerField(help_text=FIGURE_HELP["sat"])
    not_sat = serializers.IntegerField(help_text=FIGURE_HELP["not_sat"])
    passed = serializers.IntegerField(help_text=FIGURE_HELP["passed"])
    failed = serializers.IntegerField(help_text=FIGURE_HELP["failed"])
    participation_rate = serializers.FloatField(allow_null=True, help_text=FIGURE_HELP["participation_rate"])
    pass_rate = serializers.FloatField(allow_null=True, help_text=FIGURE_HELP["pass_rate"])
    average_score = serializers.FloatField(allow_null=True, help_text=FIGURE_HELP["average_score"])


class MakeupFiguresSerializer(ExamFiguresSerializer):
    exam_id = serializers.IntegerField(help_text="补考的考试编号")
    name = serializers.CharField(help_text="补考名称")


class ExamStatsSerializer(ExamFiguresSerializer):
    exam_id = serializers.IntegerField()
    unit = serializers.CharField(allow_null=True, help_text="统计范围：该单位及其全部下级单位的代码；null 为全部考生")
    makeup_of = serializers.IntegerField(required=False, help_text="仅当本考试是补考时出现：所属主考试的编号")
    makeup = MakeupFiguresSerializer(
        required=False,
        help_text="仅当本考试有补考时出现：补考自身的数字（同一单位范围）。上面的实考、合格已计入补考：参加（或通过）"
                  "主考试或补考之一即计为实考（或合格），应考仍为主考试的应考",
    )


class UnitQuerySerializer(serializers.Serializer):
    unit = serializers.CharField(required=False, max_length=64, help_text="单位代码：该单位及其全部下级单位")

    def validate(self, attrs: dict) -> dict:
        # an empty number or choice (``?year=``, ``?format=``) is not one the schema allows: refused,
        # not read as "no filter". An empty text (``?unit=``) is a string the schema allows: no filter
        blank = [name for name, field in self.fields.items()
                 if self.initial_data.get(name, None) == "" and not isinstance(field, serializers.CharField)]
        if blank:
            raise serializers.ValidationError({name: ["不能为空；不筛选时请省略此参数。"] for name in blank})
        return attrs


NOT_SAT_FORMATS = ("json", "csv", "xlsx")


class NotSatQuerySerializer(UnitQuerySerializer):
    format = StrictChoiceField(choices=[(f, f) for f in NOT_SAT_FORMATS], required=False, default="json")


class NotSatEntrySerializer(serializers.Serializer):
    """One expected candidate who has not sat: the columns of the not_sat command."""

    staff_no = serializers.CharField(source="staff.staff_no")
    name = serializers.CharField(source="staff.name")
    unit_code = serializers.CharField(source="unit.code", help_text="考试期间所在单位代码")
    unit_name = serializers.CharField(source="unit.name")
    position = serializers.CharField(source="staff.position")
    phone = serializers.SerializerMethodField(help_text="手机号：本人所在范围内显示完整号码，否则只显示后 4 位")

    @extend_schema_field(serializers.CharField())
    def get_phone(self, candidate) -> str | None:
        return self.context["scope"].phone_for(candidate.staff)


# --- training ---------------------------------------------------------------------------


class EventSerializer(serializers.ModelSerializer):
    # the kinds are data (the kinds table): a code, not a fixed enum
    kind = serializers.CharField(read_only=True, help_text="培训类型代码（培训类型表中的代码）")
    organiser = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True, help_text="主办单位代码")
    organiser_name = serializers.CharField(source="organiser.name", read_only=True, allow_null=True, default=None)
    audience_units = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True,
                                                  help_text="参加对象为 units 时的单位代码（含下级单位）")
    signin_url = serializers.SerializerMethodField(
        help_text="扫码签到页面的地址（二维码图片：地址后加 qr.png 或 qr.svg）；仅对可管理该活动的用户给出，其他人为 null")

    class Meta:
        model = TrainingEvent
        fields = [
            "id", "title", "kind", "date", "hours", "organiser", "organiser_name", "speaker", "location", "audience",
            "audience_units", "signin_opens_at", "signin_closes_at", "signin_rotates", "signin_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_signin_url(self, event: TrainingEvent) -> str | None:
        # the URL carries the sign-in token: only for a caller who runs the event
        # (``Scope.events_with_managed``); everyone else, and any event not so annotated, gets null
        if not getattr(event, "caller_manages", False):
            return None
        path = reverse("training:signin", args=[event.signin_token])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


def event_kind_check(value: str) -> str:
    """A kind is a code of the kinds table (read fresh: a kind added in the admin counts)."""
    kinds = kind_labels(fresh=True)
    if value not in kinds:
        raise serializers.ValidationError(f"培训类型“{value}”无效，应为：{'、'.join(kinds)}。")
    return value


class EventCreateSerializer(serializers.Serializer):
    title = StrictCharField(max_length=200)
    # a code of the kinds table (data: checked when a request is validated, never when the
    # schema is made; a kind added in the admin is valid at once)
    kind = StrictCharField(max_length=32, help_text="培训类型代码（培训类型表中的代码，例如 lecture、leader_law_report）")
    date = YearDateField()
    hours = strict_decimal(max_digits=5, decimal_places=2, min_value=Decimal("0.01"),
                           help_text="每位参加者计入的学时，可以是小数")
    organiser = _UnitCodeField(required=False, allow_null=True,
                               help_text="主办单位代码（单位联络员必填，且须为本单位或下级单位）")
    speaker = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    location = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    audience = StrictChoiceField(choices=TrainingAudience.choices, required=False, default=TrainingAudience.DISTRICT)
    audience_units = serializers.ListField(child=_UnitCodeField(), required=False, default=list, max_length=500,
                                           help_text="参加对象为 units 时的单位代码")
    signin_opens_at = YearDateTimeField(required=False, allow_null=True, default=None)
    signin_closes_at = YearDateTimeField(required=False, allow_null=True, default=None)
    signin_rotates = serializers.BooleanField(
        required=False, default=True, help_text="会场二维码定时更换（默认是）；线上活动可设为 false，使用固定链接"
    )

    def validate_kind(self, value: str) -> str:
        return event_kind_check(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        scope: Scope = self.context["scope"]
        if scope.organiser_required and attrs.get("organiser") is None:
            raise serializers.ValidationError({"organiser": "单位联络员创建培训活动时必须指定本单位或下级单位为主办单位。"})
        return attrs


class AttendanceSerializer(serializers.ModelSerializer):
    staff_no = serializers.CharField(source="staff.staff_no", read_only=True)
    name = serializers.CharField(source="staff.name", read_only=True)
    unit = serializers.CharField(source="unit.code", read_only=True, help_text="活动当日所在单位代码")
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = Attendance
        fields = ["staff_no", "name", "unit", "unit_name", "status", "source", "signed_in_at"]
        read_only_fields = fields


class AttendanceListSerializer(serializers.Serializer):
    """A JSON list: these people's attendance with one status (training.attendance.attendance_record)."""

    staff_nos = serializers.ListField(child=StrictCharField(max_length=64), min_length=1, max_length=5000,
                                      help_text="工号列表（单位联络员只能填写本单位及下级单位的人员）")
    status = StrictChoiceField(choices=AttendanceStatus.choices, required=False, default=AttendanceStatus.PRESENT)


class AttendanceRecordResultSerializer(serializers.Serializer):
    event_id = serializers.IntegerField()
    created = serializers.IntegerField(help_text="新记录")
    updated = serializers.IntegerField(help_text="改了出勤情况")
    unchanged = serializers.IntegerField(help_text="已有相同记录")


# --- corrections (each audited: audit action "correction") --------------------------------

REASON_HELP = "原因（可不填；记入审计记录，不得包含身份证号）"


def reason_field(*, help_text: str = REASON_HELP) -> StrictCharField:
    return StrictCharField(max_length=200, required=False, allow_blank=True, default="", help_text=help_text)


class ExamUpdateSerializer(serializers.Serializer):
    """PATCH exams/{id}/: any of these; kind, year and audience stay as created."""

    name = StrictCharField(max_length=200, required=False)
    opens_on = YearDateField(required=False)
    closes_on = YearDateField(required=False)
    pass_mark = strict_decimal(max_digits=6, decimal_places=2, min_value=Decimal("0"), required=False,
                               help_text="合格分数线：改后按新分数线重新判定每位考生是否合格")
    max_score = strict_decimal(max_digits=6, decimal_places=2, min_value=Decimal("0.01"), required=False)
    reason = reason_field()


class ReasonSerializer(serializers.Serializer):
    """The body of a DELETE (a reason for the audit record), or of nothing at all."""

    reason = reason_field(help_text="原因；删除已有出勤记录的培训活动时必填（记入审计记录，不得包含身份证号）")


class ExemptionCreateSerializer(serializers.Serializer):
    """POST exams/{id}/exemptions/ as JSON: one person exempted by hand."""

    staff_no = StrictCharField(max_length=64, help_text="工号")
    reason = StrictCharField(max_length=200, help_text="免考原因（记入审计记录，不得包含身份证号）")


class ExemptionSerializer(serializers.ModelSerializer):
    staff_no = serializers.CharField(source="staff.staff_no", read_only=True)
    name = serializers.CharField(source="staff.name", read_only=True)
    unit = serializers.CharField(source="unit.code", read_only=True, help_text="考生所在单位代码")

    class Meta:
        model = Candidate
        fields = ["exam", "staff_no", "name", "unit", "exempt", "exempt_reason", "enrolled_via"]
        read_only_fields = fields


class EventUpdateSerializer(serializers.Serializer):
    """PATCH events/{id}/: any of these (a liaison: the organiser stays within their subtree)."""

    title = StrictCharField(max_length=200, required=False)
    kind = StrictCharField(max_length=32, required=False, help_text="培训类型代码（培训类型表中的代码）")
    date = YearDateField(required=False, help_text="改日期后，出勤人员按新日期所在单位统计")
    hours = strict_decimal(max_digits=5, decimal_places=2, min_value=Decimal("0.01"), required=False)
    organiser = _UnitCodeField(required=False, allow_null=True,
                               help_text="主办单位代码；null 为全区（单位联络员不能设为 null）")
    speaker = StrictCharField(max_length=200, required=False, allow_blank=True)
    location = StrictCharField(max_length=200, required=False, allow_blank=True)
    signin_rotates = serializers.BooleanField(required=False)
    reason = reason_field()

    def validate_kind(self, value: str) -> str:
        return event_kind_check(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        scope: Scope = self.context["scope"]
        if scope.organiser_required and "organiser" in attrs and attrs["organiser"] is None:
            raise serializers.ValidationError({"organiser": "单位联络员的培训活动必须由本单位或下级单位主办。"})
        return attrs


class AttendanceStatusSerializer(serializers.Serializer):
    """PATCH events/{id}/attendance/{staff_no}/: one person's status."""

    status = StrictChoiceField(choices=AttendanceStatus.choices, help_text="present 出席、late 迟到、excused 请假、absent 缺席")
    reason = reason_field()


# --- statistics and reports -------------------------------------------------------------


class QueryIntegerField(KeepBlankFormValueMixin, serializers.IntegerField):
    """An integer query parameter: given but empty is a 400, not "not given"."""


class ParticipationQuerySerializer(UnitQuerySerializer):
    exam = QueryIntegerField(required=False, min_value=1, max_value=2**53, help_text="考试编号")
    year = QueryIntegerField(required=False, min_value=2000, max_value=2100,
                                    help_text="年度（该年度各考试和培训；不填考试和年度时为今年）")
    rollup = StrictBooleanField(form=True, required=False, default=True,
                                help_text="true（默认）：含下属单位；false：只计单位本身")


class ParticipationRowSerializer(serializers.Serializer):
    """One unit's figures from the latest snapshot (``reports.selectors.participation_latest``).
    Exam rows carry the exam figures, training rows the training figures; the others are null."""

    scope = serializers.ChoiceField(choices=[("exam", "exam"), ("training", "training")])
    exam_id = serializers.IntegerField(allow_null=True)
    exam_name = serializers.CharField(allow_null=True)
    makeup_of = serializers.IntegerField(
        allow_null=True, help_text="补考的行：所属主考试的编号（主考试的行已计入补考，补考的行是补考自身的数字）；否则为 null",
    )
    year = serializers.IntegerField()
    unit_code = serializers.CharField()
    unit_name = serializers.CharField()
    unit_kind = serializers.CharField()
    depth = serializers.IntegerField()
    rollup = serializers.BooleanField()
    computed_at = serializers.DateTimeField()
    candidates = serializers.IntegerField(allow_null=True)
    exempt = serializers.IntegerField(allow_null=True)
    expected = serializers.IntegerField(allow_null=True)
    sat = serializers.IntegerField(allow_null=True)
    not_sat = serializers.IntegerField(allow_null=True)
    passed = serializers.IntegerField(allow_null=True)
    failed = serializers.IntegerField(allow_null=True)
    participation_rate = serializers.FloatField(allow_null=True)
    pass_rate = serializers.FloatField(allow_null=True)
    average_score = serializers.FloatField(allow_null=True)
    attendances = serializers.IntegerField(allow_null=True, help_text="参训人次")
    staff_trained = serializers.IntegerField(allow_null=True, help_text="参训人数")
    person_hours = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True, help_text="学时")
    staff_below_hours = serializers.IntegerField(allow_null=True, help_text="学时未达标人数")


REPORT_FORMATS = ("json", "xlsx", "docx", "png")


class ReportQuerySerializer(serializers.Serializer):
    format = StrictChoiceField(choices=[(f, f) for f in REPORT_FORMATS], required=False, default="json")


class AnnualReportSerializer(serializers.Serializer):
    """The annual report (``reports.annual.annual_report_build``)."""

    year = serializers.IntegerField()
    staff = serializers.DictField(help_text="active、as_of、by_unit_kind")
    exams = serializers.ListField(child=serializers.DictField(), help_text="每个考试：id、name、kind、各项数字、by_unit、by_unit_kind")
    training = serializers.DictField(help_text="events、by_kind、attendances、staff_trained、person_hours、court_observation")
    certificates = serializers.DictField(
        child=serializers.IntegerField(), help_text="执法证：holders（持证人数）、renewed（本年度续期）、expired、due")
    narrative = serializers.CharField()
    unit = serializers.DictField(required=False, help_text="仅单位联络员的报告：{code, name}，统计范围为该单位及其下级单位")


# --- learning records -------------------------------------------------------------------

RECORD_FORMATS = ("json", "docx", "xlsx")
LEARNING_FILE_FORMATS = ("xlsx", "docx")


class RecordQuerySerializer(serializers.Serializer):
    year = QueryIntegerField(required=False, min_value=2000, max_value=2100,
                             help_text="只看这一年度（即使没有记录也给出该年度）；不填为所有年度")
    format = StrictChoiceField(choices=[(f, f) for f in RECORD_FORMATS], required=False, default="json")


class LearningFileQuerySerializer(serializers.Serializer):
    format = StrictChoiceField(choices=[(f, f) for f in LEARNING_FILE_FORMATS], required=False, default="xlsx")


class RecordAttendanceSerializer(serializers.Serializer):
    event_id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=TrainingKind.choices)
    date = serializers.DateField()
    hours = serializers.FloatField(help_text="计入的学时（出席、迟到计活动学时，请假、缺席计 0）")
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)
    unit_code = serializers.CharField(help_text="活动当日所在单位")
    unit_name = serializers.CharField()
    event_hours = serializers.FloatField(help_text="活动的学时")


class RecordExamSerializer(serializers.Serializer):
    exam_id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=ExamKind.choices)
    status = serializers.ChoiceField(choices=[(s, s) for s in ("passed", "failed", "not_sat", "exempt")],
                                     help_text="passed 合格、failed 不合格、not_sat 未参考、exempt 免考")
    best_score = serializers.FloatField(allow_null=True, help_text="最好成绩（补考取最高分）；未参考为 null")
    attempts = serializers.IntegerField(help_text="参考次数")
    exemption_reason = serializers.CharField(allow_null=True, help_text="免考原因，仅免考时给出")
    expected = serializers.BooleanField(help_text="是否计入应考（考试截止前离册且未参考的不计）")
    year = serializers.IntegerField()


class RecordYearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    required_hours = serializers.FloatField(help_text="应修学时")
    hours = serializers.FloatField(help_text="学时：与培训统计相同的口径")
    missing_hours = serializers.FloatField(help_text="尚差学时（不小于 0）")
    attendances = RecordAttendanceSerializer(many=True)
    exams = RecordExamSerializer(many=True)


class StaffRecordSerializer(serializers.Serializer):
    """A person's learning record (``records.selectors.staff_record``)."""

    staff_no = serializers.CharField()
    name = serializers.CharField()
    unit_code = serializers.CharField(help_text="现所在单位")
    unit_name = serializers.CharField()
    is_active = serializers.BooleanField()
    years = RecordYearSerializer(many=True, help_text="有考试或出勤记录的各年度，新的在前")
# --- reminders --------------------------------------------------------------------------


class ReminderMessageSerializer(serializers.ModelSerializer):
    """One message of the outbox. The recipient is masked (an email) or a host (a robot)."""

    kind_label = serializers.CharField(read_only=True, help_text="提醒类型（中文）")
    exam = serializers.IntegerField(source="exam_id", read_only=True, allow_null=True, help_text="考试编号")
    exam_name = serializers.SerializerMethodField()
    unit = serializers.CharField(source="unit.code", read_only=True, help_text="接收方负责的单位（含下级单位）")
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    recipient = serializers.CharField(source="recipient_masked", read_only=True,
                                      help_text="邮箱（脱敏）或群机器人的主机名")
    not_sat = serializers.IntegerField(source="count", read_only=True, help_text="未参考（或学时未达标）人数")
    error = serializers.CharField(source="last_error", read_only=True)

    class Meta:
        model = ReminderMessage
        fields = ["id", "created_at", "sent_at", "kind", "kind_label", "exam", "exam_name", "unit", "unit_name",
                  "channel", "recipient", "period", "forced", "status", "attempts", "not_sat", "error"]
        read_only_fields = fields

    def get_exam_name(self, instance: ReminderMessage) -> str | None:
        return instance.exam.name if instance.exam_id else None


class RemindRequestSerializer(serializers.Serializer):
    dry_run = StrictBooleanField(default=False, help_text="true：试运行，不发送、不记录，只报告将发送的消息")
    force = StrictBooleanField(default=False, help_text="true：本周期已发送的也再发送一次")


class ReminderJobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    exam = serializers.IntegerField(source="exam_id", read_only=True, allow_null=True)
    result = serializers.JSONField(read_only=True, help_text="完成后：与 remind_not_sat --json 相同的对象")

    class Meta:
        model = ReminderJob
        fields = ["id", "kind", "exam", "dry_run", "force", "status", "message", "progress", "result", "created_at",
                  "started_at", "finished_at"]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, instance: ReminderJob) -> dict[str, int]:
        return instance.progress()
