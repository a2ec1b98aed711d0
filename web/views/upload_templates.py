"""/templates/<kind>.xlsx: the blank upload template of one import, for whoever may upload that
file (the same rule as GET /api/v1/templates/{kind}.xlsx)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from access.scoping import Scope
from api.upload_templates import TEMPLATE_CAPABILITIES
from sheets.templates import TEMPLATES, template_xlsx

from .base import page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_GET
@page()
def template_download(request: HttpRequest, kind: str, *, scope: Scope) -> HttpResponse:
    if kind not in TEMPLATES:
        raise Http404("没有这种导入模板。")
    if not scope.can_any(TEMPLATE_CAPABILITIES[kind]):
        raise PermissionDenied("您的角色无权上传这种文件。")
    response = HttpResponse(template_xlsx(kind), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, TEMPLATES[kind].file_name)
    return response
