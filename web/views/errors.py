"""The site's own error pages (400, 403, 404, 500 and the CSRF refusal), in Chinese, on the
site's base template. Under /api/ the same errors are the API's JSON ``{detail, code}``.

``config/urls.py`` names the four handlers and ``CSRF_FAILURE_VIEW`` names ``csrf_failure``.
Django's own pages are English, and its CSRF page advises turning on DEBUG."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from api.authentication import csrf_reason_zh

PAGES = {
    400: ("400.html", "请求有误", "bad_request"),
    403: ("403.html", "您的角色无权进行此操作。", "permission_denied"),
    404: ("404.html", "对象不存在或不在您的查看范围内。", "not_found"),
    500: ("500.html", "服务器内部错误，请稍后再试。", "server_error"),
}


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _error(request: HttpRequest, status: int, *, detail: str | None = None, use_request: bool = True) -> HttpResponse:
    template_name, default_detail, code = PAGES[status]
    if _is_api(request):
        message = detail or ("请求有误。" if status == 400 else default_detail)
        return JsonResponse({"detail": message, "code": code}, status=status, json_dumps_params={"ensure_ascii": False})
    template = loader.get_template(template_name)
    # the 500 page renders without the request's context: whatever broke (the database) must
    # not break the error page too
    context = {"detail": detail}
    body = template.render(context, request if use_request else None)
    return HttpResponse(body, status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, use_request=False)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, use_request=False)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a good CSRF token (an old page, cookies off): say so, in Chinese,
    with no advice about DEBUG and nothing about the server."""
    detail = csrf_reason_zh(reason)
    if _is_api(request):
        return JsonResponse({"detail": f"CSRF 校验失败：{detail}", "code": "csrf_failed"}, status=403,
                            json_dumps_params={"ensure_ascii": False})
    body = loader.get_template("403_csrf.html").render({"detail": detail}, None)
    return HttpResponse(body, status=403)
