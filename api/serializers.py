"""JSON shapes of the API. Serializers only shape and type-check; rules live in services, and
what a caller may see comes from the scope in the serializer's context."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from roster.models import RosterSync, Staff, SyncMode, Unit
from sheets.models import ImportRecord

from .scoping import Scope


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


class RosterSyncSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    counts = SyncCountsSerializer(source="*", read_only=True)
    errors = ProblemSerializer(many=True, read_only=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = RosterSync
        fields = [
            "id", "status", "message", "file_name", "source", "mode", "dry_run", "skip_invalid",
            "allow_mass_deactivation", "applied", "rows", "progress", "counts", "errors", "warnings",
            "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, instance: RosterSync) -> dict[str, int]:
        return instance.progress()


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
            "counts", "problems", "warnings", "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, instance: ImportRecord) -> dict[str, int]:
        return instance.progress()

