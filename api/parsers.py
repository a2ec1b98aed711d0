"""Request parsers that refuse a body larger than the limit before reading it."""

from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser, MultiPartParser


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "请求内容超过大小上限。"
    default_code = "too_large"


def _refuse_if_larger(parser_context: dict | None, limit: int) -> None:
    request = (parser_context or {}).get("request")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except ValueError:
        length = 0
    if length > limit:
        raise PayloadTooLarge(f"请求内容超过大小上限（{limit // 1024} KB）。")


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        _refuse_if_larger(parser_context, settings.API_JSON_MAX_BYTES)
        try:
            return super().parse(stream, media_type, parser_context)
        except exceptions.ParseError:
            # DRF's own message is English, with the decoder's words ("JSON parse error - ...")
            raise exceptions.ParseError("请求内容不是有效的 JSON。")


class LimitedMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        # the file may be as large as a spreadsheet may be, plus the form's own fields
        _refuse_if_larger(parser_context, settings.API_UPLOAD_MAX_BYTES)
        try:
            return super().parse(stream, media_type, parser_context)
        except exceptions.ParseError:
            raise exceptions.ParseError("请求内容不是有效的 multipart/form-data 表单。")
