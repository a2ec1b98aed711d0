"""django-filter filter sets. ``?unit=`` is resolved through the caller's scope: a unit
outside it answers 404."""

from __future__ import annotations

import django_filters
from django import forms

from access.scoping import scope_for
from exams.models import Exam, ExamKind
from reminders.models import Channel, MessageStatus, ReminderMessage
from roster.models import Staff, Unit, UnitKind
from training.models import Attendance, AttendanceStatus, TrainingEvent


class StrictBooleanFormField(forms.Field):
    """``true`` or ``false`` (as the schema declares a boolean); anything else is a 400."""

    def to_python(self, value):
        if value is None:  # not given
            return None
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise forms.ValidationError("应为 true 或 false。", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanFormField


class StrictIntegerFormField(forms.IntegerField):
    def to_python(self, value):
        if value == "":  # given but empty: the schema has no empty integer
            raise forms.ValidationError("应为整数。", code="invalid")
        return super().to_python(value)


class YearFilter(django_filters.NumberFilter):
    """A year: an integer from 2000 to 2100 (anything else is a 400, never a database error)."""

    field_class = StrictIntegerFormField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 2000)
        kwargs.setdefault("max_value", 2100)
        super().__init__(*args, **kwargs)


class StrictChoiceFormField(django_filters.fields.ChoiceField):
    """One of the listed values; given but empty is a 400 too (the schema has no empty choice)."""

    def clean(self, value):
        if value == "":
            raise forms.ValidationError("不能为空。", code="invalid_choice")
        return super().clean(value)


class StrictChoiceFilter(django_filters.ChoiceFilter):
    field_class = StrictChoiceFormField


class UnitFilter(django_filters.FilterSet):
    parent = django_filters.CharFilter(field_name="parent__code", help_text="上级单位代码：只列出其直属下级")
    kind = StrictChoiceFilter(choices=UnitKind.choices, help_text="单位类型")

    class Meta:
        model = Unit
        fields = ["parent", "kind"]


class StaffFilter(django_filters.FilterSet):
    unit = django_filters.CharFilter(method="filter_unit", help_text="单位代码：该单位及其全部下级单位的人员")
    is_active = StrictBooleanFilter(help_text="true：在册；false：已离册")

    class Meta:
        model = Staff
        fields = ["unit", "is_active"]

    def filter_unit(self, queryset, name: str, value: str):
        scope = scope_for(self.request.user)
        return scope.narrow(queryset, within=scope.resolve_unit(value))


class ExamFilter(django_filters.FilterSet):
    year = YearFilter(field_name="year", help_text="年度")
    kind = StrictChoiceFilter(choices=ExamKind.choices, help_text="考试类型")

    class Meta:
        model = Exam
        fields = ["year", "kind"]


class EventFilter(django_filters.FilterSet):
    organiser = django_filters.CharFilter(method="filter_organiser",
                                          help_text="单位代码：该单位及其全部下级单位主办的活动")
    year = YearFilter(field_name="date__year", help_text="年度")
    # a code of the kinds table (data: read when the filter runs, never when the schema is made)
    kind = django_filters.CharFilter(method="filter_kind", help_text="培训类型代码（培训类型表中的代码）")

    class Meta:
        model = TrainingEvent
        fields = ["organiser", "year", "kind"]

    def filter_kind(self, queryset, name: str, value: str):
        # the kinds are data (the table can gain one at any time): a code no event has matches
        # nothing, as any other filter value that matches nothing
        return queryset.filter(kind=value)

    def filter_organiser(self, queryset, name: str, value: str):
        scope = scope_for(self.request.user)
        return scope.narrow(queryset, unit_field="organiser", within=scope.resolve_unit(value))


class AttendanceFilter(django_filters.FilterSet):
    unit = django_filters.CharFilter(method="filter_unit", help_text="单位代码：活动当日在该单位及其下级单位的人员")
    status = StrictChoiceFilter(choices=AttendanceStatus.choices, help_text="出勤情况")

    class Meta:
        model = Attendance
        fields = ["unit", "status"]

    def filter_unit(self, queryset, name: str, value: str):
        scope = scope_for(self.request.user)
        return scope.narrow(queryset, within=scope.resolve_unit(value))


class IdFilter(django_filters.NumberFilter):
    """A record's id: a positive integer (anything else is a 400)."""

    field_class = StrictIntegerFormField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**62)
        super().__init__(*args, **kwargs)


class ReminderFilter(django_filters.FilterSet):
    exam = IdFilter(field_name="exam_id", help_text="考试编号")
    status = StrictChoiceFilter(choices=MessageStatus.choices, help_text="queued：待发送；sent：已发送；failed：发送失败")
    channel = StrictChoiceFilter(choices=Channel.choices, help_text="email、wecom 或 dingtalk")
    unit = django_filters.CharFilter(method="filter_unit", help_text="单位代码：发给该单位及其全部下级单位的提醒")

    class Meta:
        model = ReminderMessage
        fields = ["exam", "status", "channel", "unit"]

    def filter_unit(self, queryset, name: str, value: str):
        scope = scope_for(self.request.user)
        return scope.narrow(queryset, within=scope.resolve_unit(value))
