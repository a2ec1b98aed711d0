"""OpenAPI: every operation documents the error answers it may give, in one JSON shape."""

from __future__ import annotations

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class ChineseCsrfSessionScheme(SessionScheme):
    """The session authentication with Chinese CSRF refusals is documented as DRF's own."""

    target_class = "api.authentication.SessionAuthentication"


@extend_schema_field(OpenApiTypes.ANY)
class AnyField(serializers.Field):
    def to_representation(self, value):
        return value


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="错误说明（中文）。")
    code = serializers.CharField(help_text="错误代码，例如 invalid、not_found、permission_denied、throttled。")
    errors = AnyField(
        required=False,
        help_text="细节：字段错误（对象），或逐行问题列表 [{row, column, value, message, kind}]。",
    )


ERROR_DESCRIPTIONS = {
    "400": "请求有误",
    "401": "未登录或令牌无效",
    "403": "角色无权进行此操作",
    "404": "对象不存在或不在查看范围内",
    "413": "请求内容超过大小上限",
    "409": "与现有数据冲突（例如已有同名考试、考试已截止）",
    "415": "不支持的内容类型",
    "429": "请求过于频繁",
}


class ApiAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "429"]
        if any(self.get_auth()):  # [{}] means anonymous callers are let in
            codes += ["401", "403"]
        if "{" in self.path or self.method == "GET" or self.method == "PATCH":
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["409", "413", "415"]
        if self.method == "DELETE":
            codes.append("409")  # a rule keeps it (an exam someone sat, an event with attendance and no reason)
        return codes

    def _get_filter_parameters(self):
        """django-filter's parameters as the filters check them: a year from 2000 to 2100, an
        id from 1 (``YearFilter``, ``IdFilter``: integers with bounds)."""
        parameters = super()._get_filter_parameters()
        filterset_class = getattr(self.view, "filterset_class", None)
        if filterset_class is None:
            return parameters
        from django import forms

        for parameter in parameters:
            found = filterset_class.base_filters.get(parameter["name"])
            if found is None:
                continue
            if issubclass(found.field_class, forms.IntegerField):
                parameter["schema"]["type"] = "integer"
            if found.extra.get("min_value") is not None:
                parameter["schema"]["minimum"] = found.extra["min_value"]
            if found.extra.get("max_value") is not None:
                parameter["schema"]["maximum"] = found.extra["max_value"]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses
