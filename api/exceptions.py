"""The one DRF exception handler: every error is JSON ``{detail, code, errors}``.

A ``DomainError`` from a service becomes a 4xx with its Chinese message and its row-level
problems; anything unexpected becomes a 500 with no traceback (the traceback goes to the log).
"""

from __future__ import annotations

import logging
from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import DomainError

logger = logging.getLogger(__name__)

DOMAIN_STATUS = {
    "not_found": status.HTTP_404_NOT_FOUND,
    "forbidden": status.HTTP_403_FORBIDDEN,
    "throttled": status.HTTP_429_TOO_MANY_REQUESTS,
    "too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "conflict": status.HTTP_409_CONFLICT,
    "unavailable": status.HTTP_503_SERVICE_UNAVAILABLE,  # the server lacks something (a font)
}


def _chinese_detail(exc: Exception) -> str | None:
    """DRF's own words for these errors, in Chinese whatever language the client asked for
    (every message of the API's own is Chinese too)."""
    if isinstance(exc, exceptions.Throttled):
        wait = exc.wait
        return f"请求过于频繁，请 {max(1, int(-(-wait // 1)))} 秒后再试。" if wait else "请求过于频繁，请稍后再试。"
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return "不支持这种请求内容类型，请发送 application/json（上传文件用 multipart/form-data）。"
    if isinstance(exc, exceptions.MethodNotAllowed):
        return "不支持此请求方法。"
    if isinstance(exc, exceptions.NotAcceptable):
        return "无法提供所要求的响应格式（Accept）。"
    if isinstance(exc, exceptions.NotAuthenticated):
        return "未登录：请提供令牌（Authorization: Token <令牌>）或先登录。"
    if isinstance(exc, exceptions.ParseError) and exc.detail.isascii():
        return "请求内容无法解析。"
    return None


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return getattr(exc, "default_code", "error")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, DomainError):
        response = Response(
            {"detail": exc.message, "code": exc.code, "errors": [p.as_dict() for p in exc.problems]},
            status=DOMAIN_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST),
        )
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            response["Retry-After"] = str(retry_after)
        return response
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
        return Response(
            {"detail": "服务器内部错误，请稍后再试。", "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "请求数据有误。", "code": "invalid", "errors": exc.detail}
    elif isinstance(response.data, dict) and "detail" in response.data:
        code = _code_of(exc) if isinstance(exc, exceptions.APIException) else (
            "not_found" if response.status_code == 404 else "permission_denied"
        )
        response.data = {"detail": _chinese_detail(exc) or str(response.data["detail"]), "code": code}
    return response
