"""API views: thin ViewSets. Querysets come from the caller's scope, writes call services."""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from roster.selectors import roster_syncs, staff_list
from roster.services import staff_create, staff_update
from sheets.models import ImportRecord

from . import scoping
from .filters import StaffFilter, UnitFilter
from .models import AuditAction
from .parsers import LimitedMultiPartParser
from .scoping import Scope, scope_for
from .serializers import (
    ImportRecordSerializer,
    RevealQuerySerializer,
    RosterSyncCreateSerializer,
    RosterSyncSerializer,
    StaffCreateSerializer,
    StaffSerializer,
    StaffUpdateSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UnitSerializer,
)
from .services import audit_record, login_authenticate, roster_sync_submit
from .throttling import ApiUserRateThrottle, UploadRateThrottle


def client_address(request) -> str | None:
    return AnonRateThrottle().get_ident(request) or None


class ScopedViewSet(viewsets.GenericViewSet):
    """Base of every resource: ``capabilities`` maps each action to what the scope must grant."""

    capabilities: dict[str, str] = {}

    @property
    def scope(self) -> Scope:
        return scope_for(self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["scope"] = self.scope
        return context

    def get_object(self):
        # a NUL cannot be in any key (PostgreSQL refuses it in a query): no such object
        if "\x00" in str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")):
            raise scoping.OutOfScope("对象不存在或不在您的查看范围内。")
        return super().get_object()


# --- auth -------------------------------------------------------------------------------


class TokenView(APIView):
    """Exchange a username and password for an API token. The 6th wrong password within 15
    minutes for one account, or from one address, is refused with 429."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer}, tags=["auth"],
                   operation_id="auth_token_create")
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = login_authenticate(
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
            address=client_address(request),
            request=request._request,
        )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


# --- units ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="单位列表（仅查看范围内）"),
    retrieve=extend_schema(summary="一个单位"),
)
class UnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    capabilities = {"list": scoping.UNITS_READ, "retrieve": scoping.UNITS_READ}
    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return self.scope.units().select_related("parent").order_by("path")


# --- staff ------------------------------------------------------------------------------

REVEAL_PARAMETERS = [
    OpenApiParameter("reveal", OpenApiTypes.STR, enum=["id_number"],
                     description="仅人事部门：id_number 表示显示完整身份证号（须同时给出 reason，并记入审计）"),
    OpenApiParameter("reason", OpenApiTypes.STR, description="查看完整身份证号的理由"),
]


@extend_schema_view(
    list=extend_schema(summary="人员列表（仅查看范围内）"),
    retrieve=extend_schema(summary="一名人员", parameters=REVEAL_PARAMETERS),
    create=extend_schema(summary="添加人员（人事部门）", request=StaffCreateSerializer, responses={201: StaffSerializer}),
    partial_update=extend_schema(summary="修改人员（人事部门）", request=StaffUpdateSerializer,
                                 responses={200: StaffSerializer}),
)
class StaffViewSet(mixins.ListModelMixin, ScopedViewSet):
    capabilities = {
        "list": scoping.STAFF_READ,
        "retrieve": scoping.STAFF_READ,
        "create": scoping.STAFF_WRITE,
        "partial_update": scoping.STAFF_WRITE,
    }
    serializer_class = StaffSerializer
    filterset_class = StaffFilter
    filter_backends = [DjangoFilterBackend, SearchFilter]
    search_fields = ["staff_no", "name"]
    lookup_field = "staff_no"
    lookup_value_regex = "[^/]+"
    throttle_classes = [ApiUserRateThrottle, UploadRateThrottle]

    def get_queryset(self):
        return self.scope.staff(staff_list())

    def list(self, request, *args, **kwargs):
        if "reveal" in request.query_params:
            raise ValidationError({"reveal": "完整身份证号只能逐人查看。"})
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        staff = self.get_object()
        context = self.get_serializer_context()
        query = RevealQuerySerializer(data=request.query_params)
        if "reveal" in request.query_params:
            self.scope.require(scoping.STAFF_REVEAL_ID_NUMBER)
            query.is_valid(raise_exception=True)
            audit_record(
                user=request.user,
                action=AuditAction.REVEAL_ID_NUMBER,
                target=f"staff:{staff.staff_no}",
                reason=query.validated_data["reason"].strip(),
                rows=1,
                address=client_address(request),
            )
            context["revealed_id_number"] = staff.reveal_id_number()
        return Response(StaffSerializer(staff, context=context).data)

    def create(self, request, *args, **kwargs):
        serializer = StaffCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        staff = staff_create(**serializer.validated_data)
        staff = self.get_queryset().get(pk=staff.pk)
        return Response(
            StaffSerializer(staff, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api:staff-detail", kwargs={"staff_no": staff.staff_no})},
        )

    def partial_update(self, request, *args, **kwargs):
        staff = self.get_object()
        serializer = StaffUpdateSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        staff_update(staff=staff, changes=dict(serializer.validated_data))
        staff = self.get_queryset().get(pk=staff.pk)
        return Response(StaffSerializer(staff, context=self.get_serializer_context()).data)


# --- roster syncs -----------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(
        summary="上传名册文件同步（人事部门）：立即返回 202 与记录编号，在后台执行",
        request=RosterSyncCreateSerializer,
        responses={202: RosterSyncSerializer},
    ),
    retrieve=extend_schema(summary="名册同步的状态、进度、计数与错误"),
)
class RosterSyncViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    capabilities = {"create": scoping.ROSTER_SYNC_WRITE, "retrieve": scoping.ROSTER_SYNC_READ}
    serializer_class = RosterSyncSerializer
    parser_classes = [LimitedMultiPartParser]
    throttle_classes = [ApiUserRateThrottle, UploadRateThrottle]

    def get_queryset(self):
        return self.scope.roster_syncs(roster_syncs())

    def create(self, request, *args, **kwargs):
        serializer = RosterSyncCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        sync = roster_sync_submit(
            file=upload,
            file_name=upload.name or "roster",
            mode=data["mode"],
            dry_run=data["dry_run"],
            skip_invalid=data["skip_invalid"],
            allow_mass_deactivation=data["allow_mass_deactivation"],
            user=request.user,
        )
        sync.refresh_from_db()
        return Response(
            RosterSyncSerializer(sync, context=self.get_serializer_context()).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("api:roster-sync-detail", kwargs={"pk": sync.pk})},
        )


# --- import records ---------------------------------------------------------------------


@extend_schema_view(retrieve=extend_schema(summary="一次导入（成绩、免考、签到表）的状态、进度、计数与问题"))
class ImportRecordViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    capabilities = {"retrieve": scoping.IMPORTS_READ}
    serializer_class = ImportRecordSerializer

    def get_queryset(self):
        return self.scope.imports(ImportRecord.objects.all())


def not_found(request, *args, **kwargs) -> JsonResponse:
    """Any other path under /api/v1/: a JSON 404 like the API's own."""
    return JsonResponse({"detail": "未找到。", "code": "not_found"}, status=404)
