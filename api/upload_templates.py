"""GET /api/v1/templates/{kind}.xlsx: the blank upload template of one import
(``sheets.templates``). No personal data, so no audit record. Who may download one is who may
upload that file: roster (hr; the legal-affairs office reads the roster syncs too), results,
exemptions and certificates (the legal-affairs office), attendance (the office and liaisons)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.views import APIView

from access import scoping
from access.scoping import scope_for
from certificates import capabilities as cert_caps
from sheets.templates import TEMPLATE_KINDS, TEMPLATES, template_xlsx

from .views import XLSX, DownloadNegotiation, file_response

TEMPLATE_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "roster": (scoping.ROSTER_SYNC_WRITE, scoping.ROSTER_SYNC_READ),
    "results": (scoping.EXAMS_WRITE,),
    "exemptions": (scoping.EXAMS_WRITE,),
    "attendance": (scoping.EVENTS_WRITE,),
    "certificates": (cert_caps.CERTIFICATES_WRITE,),
}


class UploadTemplateView(APIView):
    capabilities = {"get": tuple(sorted({c for caps in TEMPLATE_CAPABILITIES.values() for c in caps}))}
    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        summary="导入模板（空白表格：表头、一行示例；工号、身份证号等列为文本格式）",
        operation_id="templates_retrieve", tags=["templates"],
        parameters=[OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(TEMPLATE_KINDS),
                                     description="roster（名册）、results（成绩）、exemptions（免考）、"
                                                 "attendance（签到表）或 certificates（执法证件）")],
        responses={(200, XLSX): OpenApiTypes.BINARY},
    )
    def get(self, request, kind: str):
        if kind not in TEMPLATES:
            raise NotFound(f"没有这种导入模板：{kind}。")
        if not scope_for(request.user).can_any(TEMPLATE_CAPABILITIES[kind]):
            raise PermissionDenied("您的角色无权上传这种文件。")
        return file_response(template_xlsx(kind), content_type=XLSX, file_name=TEMPLATES[kind].file_name)
