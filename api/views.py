"""API views: thin ViewSets. Querysets come from the caller's scope, writes call services."""

from __future__ import annotations

import tempfile
from types import SimpleNamespace

from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from access import scoping
from access.scoping import Scope, scope_for
from audit.models import AuditAction
from audit.services import audit_record
from config.jobs import JobStatus
from exams import exports
from exams.corrections import exam_correct, exam_delete, exemption_add, exemption_lift
from exams.creation import exam_create
from exams.models import Candidate, Exam
from exams.selectors import exam_exemptions, exam_list, exam_stats_with_makeup
from records.exports import CONTENT_TYPES as RECORD_CONTENT_TYPES
from records.exports import learning_file_export, learning_file_name, record_file_name, staff_record_export
from records.selectors import staff_record
from reminders import capabilities as reminder_caps
from reminders.selectors import reminder_jobs, reminder_messages
from reminders.sendnow import reminder_job_create
from reports.annual import annual_report_build, annual_report_file_name, annual_report_render, year_check
from reports.selectors import participation_rows
from roster.models import SyncSource
from roster.ordering import unit_order
from roster.selectors import roster_syncs, staff_list
from roster.staff import staff_create, staff_id_number_reveal, staff_update
from roster.sync import roster_sync_submit
from roster.undo import roster_undo_submit
from sheets.models import ImportRecord
from sheets.voiding import import_void
from training.attendance import attendance_import
from training.corrections import KEEP, attendance_status_correct, training_event_correct, training_event_delete
from training.events import training_event_create
from training.models import Attendance, TrainingEvent
from training.selectors import event_attendances

from .authentication import TokenAuthentication
from .filters import AttendanceFilter, EventFilter, ExamFilter, ReminderFilter, StaffFilter, UnitFilter
from .parsers import LimitedJSONParser, LimitedMultiPartParser
from .selectors import events_for_api, not_sat_for_api
from .serializers import (
    NOT_SAT_FORMATS,
    REPORT_FORMATS,
    AnnualReportSerializer,
    AttendanceListSerializer,
    AttendanceRecordResultSerializer,
    AttendanceSerializer,
    AttendanceStatusSerializer,
    EventCreateSerializer,
    EventSerializer,
    EventUpdateSerializer,
    ExamCreateSerializer,
    ExamSerializer,
    ExamStatsSerializer,
    ExamUpdateSerializer,
    ExemptionCreateSerializer,
    ExemptionSerializer,
    ImportRecordSerializer,
    ImportVoidResultSerializer,
    ImportVoidSerializer,
    LearningFileQuerySerializer,
    NotSatEntrySerializer,
    NotSatQuerySerializer,
    ParticipationQuerySerializer,
    ParticipationRowSerializer,
    ReasonSerializer,
    RecordQuerySerializer,
    ReminderJobSerializer,
    ReminderMessageSerializer,
    RemindRequestSerializer,
    ReportQuerySerializer,
    ResultsUploadSerializer,
    RevealQuerySerializer,
    RosterSyncCreateSerializer,
    RosterSyncSerializer,
    RosterUndoSerializer,
    SheetUploadSerializer,
    StaffCreateSerializer,
    StaffRecordSerializer,
    StaffSerializer,
    StaffUpdateSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UnitQuerySerializer,
    UnitSerializer,
)
from .services import (
    api_token_issue,
    api_token_revoke,
    event_attendance_record_by_staff_no,
    exam_exemptions_import,
    exam_refresh_for_read,
    exam_results_submit,
    login_authenticate,
)
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
        try:
            return super().get_object()
        except Http404:
            # Django's own message ("No Staff matches the given query.") is English and names
            # the model: answer in Chinese, the same for a missing object and one out of scope
            raise scoping.OutOfScope("对象不存在或不在您的查看范围内。") from None


# --- downloads --------------------------------------------------------------------------

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PNG = "image/png"


class DownloadNegotiation(DefaultContentNegotiation):
    """On endpoints with downloads, ``?format=`` chooses the file the view writes, not a DRF
    renderer: every other answer (lists, errors) is JSON."""

    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)


def file_response(data: bytes, *, content_type: str, file_name: str) -> HttpResponse:
    """A download. Under /api/v1/ it carries ``Cache-Control: no-store`` like every answer."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    return response


def _query(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


RECORD_SCHEMA = {
    "parameters": [
        OpenApiParameter("year", {"type": "integer", "minimum": 2000, "maximum": 2100},
                         description="只看这一年度（即使没有记录也给出）；不填为所有年度"),
        OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "docx", "xlsx"],
                         description="json（默认）；docx 或 xlsx：下载文件（记入审计）"),
    ],
    "responses": {
        (200, "application/json"): StaffRecordSerializer,
        (200, XLSX): OpenApiTypes.BINARY,
        (200, DOCX): OpenApiTypes.BINARY,
    },
}


# --- auth -------------------------------------------------------------------------------


class TokenView(APIView):
    """POST: exchange a username and password for an API token (valid ``API_TOKEN_TTL_HOURS``
    from its issue). The 6th wrong password within 15 minutes for one account is refused with
    429. DELETE: revoke the token the request is made with (204)."""

    def initialize_request(self, request, *args, **kwargs):
        self._method = request.method
        return super().initialize_request(request, *args, **kwargs)

    def _is_delete(self) -> bool:
        method = getattr(self, "_method", None) or getattr(getattr(self, "request", None), "method", None)
        return (method or "").upper() == "DELETE"

    def get_authenticators(self):
        # signing in takes no credentials; revoking takes exactly the token to revoke
        return [TokenAuthentication()] if self._is_delete() else []

    def get_permissions(self):
        return [IsAuthenticated()] if self._is_delete() else [AllowAny()]

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
        return Response({"token": api_token_issue(user=user).key})

    @extend_schema(request=None, responses={204: None}, tags=["auth"], operation_id="auth_token_destroy",
                   summary="注销令牌（此后用它的请求答 401）")
    def delete(self, request):
        api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- units ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="单位列表（仅查看范围内）"),
    retrieve=extend_schema(summary="一个单位"),
)
class UnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    capabilities = {"list": scoping.UNITS_READ, "retrieve": scoping.UNITS_READ,
                    "learning_file": scoping.LEARNING_FILE_READ}
    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return self.scope.units().select_related("parent").order_by(*unit_order())

    @extend_schema(
        summary="单位（含下级单位）的年度学法档案：xlsx（汇总、明细）或 docx（每人一页），列出年末在册人员；记入审计",
        parameters=[
            OpenApiParameter("year", {"type": "integer", "minimum": 2000, "maximum": 2100}, OpenApiParameter.PATH,
                             description="年度，2000 到 2100"),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["xlsx", "docx"], description="xlsx（默认）或 docx"),
        ],
        responses={(200, XLSX): OpenApiTypes.BINARY, (200, DOCX): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], url_path=r"learning-file/(?P<year>[^/]+)", filter_backends=[],
            pagination_class=None, content_negotiation_class=DownloadNegotiation)
    def learning_file(self, request, *args, **kwargs):
        unit = self.scope.learning_file_unit(self.kwargs["code"])  # outside the subtree: 404
        year = year_check(self.kwargs["year"])
        fmt = _query(LearningFileQuerySerializer, request)["format"]
        # written to a temporary file, a chunk of people at a time, and sent from there
        out = tempfile.TemporaryFile()
        learning_file_export(unit=unit, year=year, format=fmt, out=out, user=request.user,
                             address=client_address(request), reason=f"接口下载年度学法档案（{fmt}）")
        out.seek(0)
        return FileResponse(out, content_type=RECORD_CONTENT_TYPES[fmt], as_attachment=True,
                            filename=learning_file_name(unit=unit, year=year, format=fmt))


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
        "record": scoping.RECORDS_READ,
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
            context["revealed_id_number"] = staff_id_number_reveal(
                user=request.user, staff=staff, reason=query.validated_data["reason"], address=client_address(request)
            )
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

    @extend_schema(summary="一名人员的个人学法档案（法治办；单位联络员：现在本单位范围内的人员；本人账号：仅本人）；"
                           "?format=docx、xlsx 下载（记入审计）", **RECORD_SCHEMA)
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None,
            content_negotiation_class=DownloadNegotiation)
    def record(self, request, *args, **kwargs):
        staff_no = str(self.kwargs.get("staff_no", ""))
        if "\x00" in staff_no:
            raise scoping.OutOfScope("对象不存在或不在您的查看范围内。")
        # another person's record, or one outside a liaison's subtree: 404, as an unknown 工号
        staff = self.scope.get(self.scope.record_staff(), staff_no=staff_no)
        return record_response(request, staff)


def record_response(request, staff) -> HttpResponse:
    """A person's learning record: JSON, or (``?format=docx|xlsx``) a file, audited."""
    query = _query(RecordQuerySerializer, request)
    year = query.get("year")
    record = staff_record(staff=staff, year=year)
    fmt = query["format"]
    if fmt == "json":
        return Response(record)
    data = staff_record_export(record=record, year=year, format=fmt, user=request.user,
                               address=client_address(request), reason=f"接口下载个人学法档案（{fmt}）")
    return file_response(data, content_type=RECORD_CONTENT_TYPES[fmt],
                         file_name=record_file_name(record=record, year=year, format=fmt))


class MyRecordView(APIView):
    """The caller's own learning record (the staff role): as ``staff/{staff_no}/record/``."""

    capabilities = {"get": scoping.RECORD_SELF}
    content_negotiation_class = DownloadNegotiation

    @extend_schema(summary="本人的个人学法档案（本人账号）；?format=docx、xlsx 下载（记入审计）",
                   operation_id="me_record_retrieve", tags=["me"], **RECORD_SCHEMA)
    def get(self, request):
        person = scope_for(request.user).person
        if person is None:  # not a staff account (a superuser): no record of their own
            raise scoping.OutOfScope("您的账号没有关联人员。")
        return record_response(request, person)


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
    capabilities = {"create": scoping.ROSTER_SYNC_WRITE, "retrieve": scoping.ROSTER_SYNC_READ,
                    "undo": scoping.ROSTER_SYNC_WRITE}
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
            source=SyncSource.API,
            started_by=request.user,
            root=self.scope.write_root,
        )
        sync.refresh_from_db()
        return Response(
            RosterSyncSerializer(sync, context=self.get_serializer_context()).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("api:roster-sync-detail", kwargs={"pk": sync.pk})},
        )

    @extend_schema(
        summary="撤销一次名册同步（人事部门）：202 与新的撤销记录（kind: undo），在后台执行；"
                "其后又被修改的字段为冲突，整体拒绝（409，列出冲突），或 skip_conflicts 撤销其余",
        request=RosterUndoSerializer,
        responses={202: RosterSyncSerializer, 400: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["post"], url_path="undo",
            parser_classes=[LimitedJSONParser, LimitedMultiPartParser])
    def undo(self, request, pk=None):
        target = self.get_object()
        serializer = RosterUndoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        record = roster_undo_submit(target=target, dry_run=data["dry_run"], skip_conflicts=data["skip_conflicts"],
                                    source=SyncSource.API, started_by=request.user)
        record.refresh_from_db()
        body = RosterSyncSerializer(record, context=self.get_serializer_context()).data
        location = {"Location": reverse("api:roster-sync-detail", kwargs={"pk": record.pk})}
        if record.status == JobStatus.REFUSED:
            return Response({"detail": record.message, "code": "conflict", "conflicts": body["undo"]["conflicts"],
                             "sync": body}, status=status.HTTP_409_CONFLICT, headers=location)
        return Response(body, status=status.HTTP_202_ACCEPTED, headers=location)


# --- import records ---------------------------------------------------------------------


@extend_schema_view(retrieve=extend_schema(summary="一次导入（成绩、免考、签到表）的状态、进度、计数与问题"))
class ImportRecordViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    capabilities = {"retrieve": scoping.IMPORTS_READ, "void": scoping.IMPORTS_VOID}
    serializer_class = ImportRecordSerializer

    def get_queryset(self):
        if self.action == "void":
            return self.scope.imports_voidable(ImportRecord.objects.all())
        return self.scope.imports(ImportRecord.objects.all())

    @extend_schema(
        summary="撤销一次导入（法治办）：删除该次导入写入的考试记录、免考或出勤记录，其他导入也提供过的保留",
        request=ImportVoidSerializer, responses={200: ImportVoidResultSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def void(self, request, *args, **kwargs):
        record = self.get_object()
        serializer = ImportVoidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = import_void(
            import_id=record.pk, dry_run=serializer.validated_data["dry_run"],
            reason=serializer.validated_data["reason"], user=request.user,
            records=self.scope.imports_voidable(ImportRecord.objects.all()),
        )
        return Response(result.as_dict())


ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
UNIT_PARAMETER = OpenApiParameter(
    "unit", OpenApiTypes.STR,
    description="单位代码：该单位及其全部下级单位（不在查看范围内的单位答 404）；不填时单位联络员为本单位范围，其他角色为全部",
)


# --- exams ------------------------------------------------------------------------------


def _location(name: str, **kwargs) -> dict[str, str]:
    return {"Location": reverse(name, kwargs=kwargs)}


@extend_schema_view(
    list=extend_schema(summary="考试列表"),
    retrieve=extend_schema(summary="一个考试"),
    create=extend_schema(summary="创建考试并按应考范围登记考生（法治办）", request=ExamCreateSerializer,
                         responses={201: ExamSerializer}),
    partial_update=extend_schema(
        summary="修改考试的名称、日期、合格分数线或满分（法治办；记入审计）：改分数线后重新判定合格，各项数字重新计算",
        request=ExamUpdateSerializer, responses={200: ExamSerializer}),
    destroy=extend_schema(
        summary="删除没有成绩记录的考试及其考生（法治办；记入审计）；已有成绩时答 409",
        request=ReasonSerializer, responses={204: None}),
)
class ExamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Exams (no personal data: every exam for the roles that read exams), their figures, and
    the uploads of exemptions and results through ``exams.imports``."""

    capabilities = {
        "list": scoping.EXAMS_READ,
        "retrieve": scoping.EXAMS_READ,
        "create": scoping.EXAMS_WRITE,
        "stats": scoping.STATS_READ,
        "partial_update": scoping.EXAMS_WRITE,
        "destroy": scoping.EXAMS_WRITE,
        "exemptions": scoping.EXAMS_WRITE,
        "exemption_lift": scoping.EXAMS_WRITE,
        "results": scoping.EXAMS_WRITE,
        "remind": reminder_caps.REMINDERS_SEND,
    }
    serializer_class = ExamSerializer
    filterset_class = ExamFilter
    lookup_value_regex = "[0-9]+"
    throttle_classes = [ApiUserRateThrottle, UploadRateThrottle]

    def get_queryset(self):
        # reading: the exams that concern the caller; changing one: those it manages (a scoped
        # office, the exams its subtree owns)
        if self.action in ("list", "retrieve", "stats", None):
            return self.scope.exams(exam_list())
        return self.scope.exams_managed(exam_list())

    def create(self, request, *args, **kwargs):
        serializer = ExamCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exam = exam_create(**serializer.validated_data, owner=self.scope.write_root)
        return Response(ExamSerializer(exam).data, status=status.HTTP_201_CREATED,
                        headers=_location("api:exam-detail", pk=exam.pk))

    def partial_update(self, request, *args, **kwargs):
        exam = self.get_object()
        serializer = ExamUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exam = exam_correct(exam=exam, user=request.user, address=client_address(request), **serializer.validated_data)
        return Response(ExamSerializer(exam).data)

    def destroy(self, request, *args, **kwargs):
        exam = self.get_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exam_delete(exam=exam, user=request.user, reason=serializer.validated_data["reason"],
                    address=client_address(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="考试的各项数字（应考、实考、参考率、合格率……），可限定单位范围",
                   parameters=[UNIT_PARAMETER], responses={200: ExamStatsSerializer})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def stats(self, request, *args, **kwargs):
        exam = self.get_object()
        unit = self.scope.within(_query(UnitQuerySerializer, request).get("unit"))
        exam_refresh_for_read(exam=exam)
        figures = exam_stats_with_makeup(exam=exam, unit=unit)
        return Response({"exam_id": exam.pk, "unit": unit.code if unit else None, **figures})

    @extend_schema(
        summary="免考（法治办）：上传免考名单（multipart 的 file，与 import_exemptions 命令相同的导入），"
                "或 JSON {staff_no, reason} 手工设一人免考（记入审计）",
        request={"multipart/form-data": SheetUploadSerializer, "application/json": ExemptionCreateSerializer},
        responses={201: OpenApiResponse(
            PolymorphicProxySerializer("ExemptionsAnswer", [ImportRecordSerializer, ExemptionSerializer], None),
            description="上传名单：导入记录；JSON：该考生（exempt、exempt_reason）")},
    )
    @action(detail=True, methods=["post"], filter_backends=[],
            parser_classes=[LimitedJSONParser, LimitedMultiPartParser])
    def exemptions(self, request, *args, **kwargs):
        exam = self.get_object()
        if request.content_type.split(";")[0].strip().lower() != "multipart/form-data":
            return self._exemption_add(request, exam)
        serializer = SheetUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        record = exam_exemptions_import(exam=exam, file=upload, file_name=upload.name or "exemptions",
                                        user=request.user)
        return Response(ImportRecordSerializer(record).data, status=status.HTTP_201_CREATED,
                        headers=_location("api:import-detail", pk=record.pk))

    def _exemption_add(self, request, exam: Exam) -> Response:
        serializer = ExemptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        staff_no = serializer.validated_data["staff_no"].strip()
        staff = self.scope.staff(staff_list()).filter(staff_no=staff_no).first()
        if staff is None:
            # a body field, not the path: a 400 naming it, as for a unit code
            raise ValidationError({"staff_no": ["名册中没有这个工号，或此人不在您的查看范围内。"]})
        candidate = exemption_add(exam=exam, staff=staff, reason=serializer.validated_data["reason"],
                                  user=request.user, address=client_address(request))
        return Response(ExemptionSerializer(candidate).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="取消一人的免考（法治办；记入审计）；此人不是免考人员时答 404",
                   parameters=[OpenApiParameter("staff_no", OpenApiTypes.STR, OpenApiParameter.PATH, description="工号")],
                   request=ReasonSerializer, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"exemptions/(?P<staff_no>[^/]+)", filter_backends=[],
            parser_classes=[LimitedJSONParser])
    def exemption_lift(self, request, *args, **kwargs):
        exam = self.get_object()
        candidate = self.scope.get(self.scope.narrow(exam_exemptions(exam=exam)), staff__staff_no=kwargs["staff_no"])
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exemption_lift(candidate=candidate, user=request.user, reason=serializer.validated_data["reason"],
                       address=client_address(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="上传考试成绩（法治办）：立即返回 202 与导入记录编号，在后台导入",
                   request=ResultsUploadSerializer, responses={202: ImportRecordSerializer})
    @action(detail=True, methods=["post"], filter_backends=[], parser_classes=[LimitedMultiPartParser])
    def results(self, request, *args, **kwargs):
        exam = self.get_object()
        serializer = ResultsUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        record = exam_results_submit(exam=exam, file=upload, file_name=upload.name or "results",
                                     strict=serializer.validated_data["strict"], user=request.user)
        record.refresh_from_db()
        return Response(ImportRecordSerializer(record).data, status=status.HTTP_202_ACCEPTED,
                        headers=_location("api:import-detail", pk=record.pk))


    @extend_schema(summary="立即发送未参考提醒（法治办）：立即返回 202 与发送任务，在后台发送，可查询进度",
                   request=RemindRequestSerializer, responses={202: ReminderJobSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def remind(self, request, *args, **kwargs):
        exam = self.get_object()
        serializer = RemindRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = reminder_job_create(exam_id=exam.pk, dry_run=serializer.validated_data["dry_run"],
                                  force=serializer.validated_data["force"], started_by=request.user)
        job.refresh_from_db()
        return Response(ReminderJobSerializer(job).data, status=status.HTTP_202_ACCEPTED,
                        headers=_location("api:reminder-job-detail", pk=job.pk))


NOT_SAT_FORMAT_PARAMETER = OpenApiParameter(
    "format", OpenApiTypes.STR, enum=list(NOT_SAT_FORMATS),
    description="json（默认，分页）；csv 或 xlsx：下载全部名单（记入审计）",
)


@extend_schema_view(list=extend_schema(
    summary="应考未考人员名单（工号、姓名、单位、职务、手机号），可限定单位范围，可下载 csv / xlsx",
    parameters=[ID_PARAMETER, UNIT_PARAMETER, NOT_SAT_FORMAT_PARAMETER],
    responses={
        (200, "application/json"): NotSatEntrySerializer(many=True),
        (200, CSV): OpenApiTypes.BINARY,
        (200, XLSX): OpenApiTypes.BINARY,
    },
))
class ExamNotSatViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Expected candidates who have not sat, over the caller's subtree (or a unit of it)."""

    capabilities = {"list": scoping.NOT_SAT_READ}
    serializer_class = NotSatEntrySerializer
    queryset = Candidate.objects.none()  # for the schema; the list comes from the exam
    filter_backends: list = []
    content_negotiation_class = DownloadNegotiation

    def get_exam(self) -> Exam:
        return self.scope.get(self.scope.exams(exam_list()), pk=self.kwargs["id"])

    def list(self, request, *args, **kwargs):
        exam = self.get_exam()
        query = _query(NotSatQuerySerializer, request)
        unit = self.scope.within(query.get("unit"))
        exam_refresh_for_read(exam=exam)
        candidates = self.scope.narrow(not_sat_for_api(exam=exam, unit=unit))
        if query["format"] == "json":
            page = self.paginate_queryset(candidates)
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        # a download holds the whole list, yet a malformed page or page size is still refused
        self.paginator.get_page_size(request)
        self.paginator.get_page_number(request, None)
        streamed = query["format"] == "csv"
        if streamed:
            # a city's list is tens of thousands of rows: read and written in pieces, memory flat
            entries = self.serialized_in_chunks(candidates)
            rows = candidates.count()
        else:
            entries = self.get_serializer(candidates, many=True).data
            rows = len(entries)
        audit_record(
            user=request.user, action=AuditAction.EXPORT,
            target=f"exam:{exam.pk}:not_sat" + (f":{unit.code}" if unit else ""),
            reason=f"接口下载未参考人员名单（{query['format']}）", rows=rows, address=client_address(request),
        )
        name = f"not-sat-{exam.pk}" + (f"-{unit.code}" if unit else "")
        if streamed:
            # a CSV for people opens in Excel: the BOM in the first piece tells it the file is UTF-8
            response = StreamingHttpResponse(exports.as_csv_stream(entries), content_type=f"{CSV}; charset=utf-8")
            response["Content-Disposition"] = content_disposition_header(True, f"{name}.csv")
            return response
        return file_response(exports.as_xlsx(entries), content_type=XLSX, file_name=f"{name}.xlsx")

    def serialized_in_chunks(self, candidates, size: int = 1000):
        """The entries, read by iterator and serialized 1,000 at a time (one serializer per
        chunk: a serializer per row costs a millisecond each)."""
        chunk = []
        for candidate in candidates.iterator(chunk_size=2000):
            chunk.append(candidate)
            if len(chunk) == size:
                yield from self.get_serializer(chunk, many=True).data
                chunk = []
        yield from self.get_serializer(chunk, many=True).data


# --- training ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="培训活动列表（单位联络员：本单位及下级单位主办的活动）"),
    create=extend_schema(summary="创建培训活动（单位联络员：主办单位须在本单位范围内）", request=EventCreateSerializer,
                         responses={201: EventSerializer}),
    partial_update=extend_schema(
        summary="修改培训活动（单位联络员：本单位范围主办的活动；记入审计）；改日期后出勤人员按新日期所在单位统计",
        parameters=[ID_PARAMETER], request=EventUpdateSerializer, responses={200: EventSerializer}),
    destroy=extend_schema(
        summary="删除培训活动及其出勤记录（单位联络员：本单位范围主办、且只有本单位范围人员出勤的活动；记入审计）；"
                "已有出勤记录时须给出 reason，否则答 409",
        parameters=[ID_PARAMETER], request=ReasonSerializer, responses={204: None}),
)
class EventViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Training events; a liaison's are those organised by units of their subtree."""

    capabilities = {"list": scoping.EVENTS_READ, "create": scoping.EVENTS_WRITE,
                    "partial_update": scoping.EVENTS_WRITE, "destroy": scoping.EVENTS_WRITE}
    serializer_class = EventSerializer
    filterset_class = EventFilter
    lookup_value_regex = "[0-9]+"
    throttle_classes = [ApiUserRateThrottle, UploadRateThrottle]

    def get_queryset(self):
        # each event says whether the caller runs it: only then does it carry its sign-in URL.
        # Corrections reach only the events the caller runs: any other answers 404.
        events = self.scope.events if self.action in ("list", "create", None) else self.scope.events_managed
        return self.scope.events_with_managed(events(events_for_api()))

    def partial_update(self, request, *args, **kwargs):
        event = self.get_object()
        serializer = EventUpdateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.setdefault("organiser", KEEP)
        training_event_correct(event=event, user=request.user, address=client_address(request), **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=event.pk)).data)

    def destroy(self, request, *args, **kwargs):
        event = self.get_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        training_event_delete(event=event, user=request.user, reason=serializer.validated_data["reason"],
                              within=self.scope.within(None), address=client_address(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def create(self, request, *args, **kwargs):
        serializer = EventCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            event = training_event_create(**serializer.validated_data)
        event = self.get_queryset().get(pk=event.pk)
        return Response(self.get_serializer(event).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="培训活动的出勤记录（单位联络员：本单位及下级单位的人员）", parameters=[ID_PARAMETER]),
    create=extend_schema(
        summary="记录出勤：上传签到表（multipart 的 file，与 import_attendance 相同的导入），或 JSON 工号列表",
        parameters=[ID_PARAMETER],
        request={"application/json": AttendanceListSerializer, "multipart/form-data": SheetUploadSerializer},
        responses={200: AttendanceRecordResultSerializer, 201: ImportRecordSerializer},
    ),
    partial_update=extend_schema(
        summary="修改一人的出勤情况（单位联络员：本单位范围主办的活动中本单位范围的人员；记入审计）",
        parameters=[ID_PARAMETER, OpenApiParameter("staff_no", OpenApiTypes.STR, OpenApiParameter.PATH, description="工号")],
        request=AttendanceStatusSerializer, responses={200: AttendanceSerializer},
    ),
)
class EventAttendanceViewSet(mixins.ListModelMixin, ScopedViewSet):
    """One event's attendance (a liaison: of their subtree's people), recording it, and
    correcting one person's status."""

    capabilities = {"list": scoping.EVENTS_READ, "create": scoping.EVENTS_WRITE,
                    "partial_update": scoping.EVENTS_WRITE}
    serializer_class = AttendanceSerializer
    filterset_class = AttendanceFilter
    queryset = Attendance.objects.none()  # for the schema; the list comes from the event
    parser_classes = [LimitedJSONParser, LimitedMultiPartParser]
    throttle_classes = [ApiUserRateThrottle, UploadRateThrottle]
    lookup_field = "staff__staff_no"
    lookup_url_kwarg = "staff_no"
    lookup_value_regex = "[^/]+"

    def get_event(self, *, managed: bool = False) -> TrainingEvent:
        events = self.scope.events_managed if managed else self.scope.events
        return self.scope.get(events(TrainingEvent.objects.all()), pk=self.kwargs["id"])

    def get_queryset(self):
        # a correction: only at an event the caller runs, and only of their own people
        return self.scope.narrow(event_attendances(event=self.get_event(managed=self.action == "partial_update")))

    def partial_update(self, request, *args, **kwargs):
        attendance = self.get_object()
        serializer = AttendanceStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        updated = attendance_status_correct(attendance=attendance, user=request.user, address=client_address(request),
                                            **serializer.validated_data)
        return Response(AttendanceSerializer(updated).data)

    def create(self, request, *args, **kwargs):
        # an event the caller may read but does not run (a liaison and a district lecture) is
        # not theirs to record attendance for: it answers 404, as an unknown event does
        event = self.get_event(managed=True)
        if request.content_type.split(";")[0].strip().lower() == "multipart/form-data":
            return self._sheet(request, event)
        serializer = AttendanceListSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = event_attendance_record_by_staff_no(
            scope=self.scope, event=event, staff_nos=serializer.validated_data["staff_nos"],
            status=serializer.validated_data["status"],
        )
        return Response(result.as_dict())

    def _sheet(self, request, event: TrainingEvent) -> Response:
        serializer = SheetUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        result = attendance_import(
            event=event, data=upload.read(), file_name=upload.name or "signin", started_by=request.user,
            within=None if self.scope.everywhere else self.scope.unit,
        )
        record = ImportRecord.objects.get(pk=result.import_id)
        return Response(ImportRecordSerializer(record).data, status=status.HTTP_201_CREATED,
                        headers=_location("api:import-detail", pk=record.pk))


# --- statistics and reports -------------------------------------------------------------


@extend_schema_view(list=extend_schema(
    summary="各单位参考情况（最新统计快照）：某考试，或某年度的各考试和培训",
    parameters=[
        OpenApiParameter("exam", {"type": "integer", "minimum": 1, "maximum": 2**53}, description="考试编号（给出时不看 year）"),
        OpenApiParameter("year", {"type": "integer", "minimum": 2000, "maximum": 2100},
                         description="年度：该年度各考试和培训；exam 和 year 都不填时为今年"),
        UNIT_PARAMETER,
        OpenApiParameter("rollup", OpenApiTypes.BOOL, description="true（默认）：含下属单位；false：只计单位本身"),
    ],
))
class ParticipationViewSet(ScopedViewSet):
    """Participation per unit, read from the latest snapshots (nothing is computed here)."""

    capabilities = {"list": scoping.STATS_READ}
    serializer_class = ParticipationRowSerializer
    filter_backends: list = []

    def list(self, request, *args, **kwargs):
        query = _query(ParticipationQuerySerializer, request)
        exam = self.scope.get(self.scope.exams(exam_list()), pk=query["exam"]) if "exam" in query else None
        unit = self.scope.within(query.get("unit"))
        rows = participation_rows(exam=exam, year=query.get("year"), unit=unit, rollup=query["rollup"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- reminders --------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(
    summary="提醒记录：每条提醒的时间、考试、单位、渠道、接收方（脱敏）、状态与错误（单位联络员：本单位及下级单位的）"
))
class ReminderViewSet(mixins.ListModelMixin, ScopedViewSet):
    capabilities = {"list": reminder_caps.REMINDERS_READ}
    serializer_class = ReminderMessageSerializer
    filterset_class = ReminderFilter

    def get_queryset(self):
        return self.scope.narrow(reminder_messages())


@extend_schema_view(retrieve=extend_schema(summary="一次立即发送的状态、进度与结果（法治办）"))
class ReminderJobViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    capabilities = {"retrieve": reminder_caps.REMINDERS_SEND}
    serializer_class = ReminderJobSerializer

    def get_queryset(self):
        return self.scope.exam_jobs(reminder_jobs())


REPORT_CONTENT_TYPES = {"xlsx": XLSX, "docx": DOCX, "png": PNG}


@extend_schema_view(retrieve=extend_schema(
    summary="年度报告（单位联络员：本单位及下级单位的报告）；?format=xlsx、docx 或 png 下载文件",
    parameters=[
        OpenApiParameter("year", {"type": "integer", "minimum": 2000, "maximum": 2100}, OpenApiParameter.PATH,
                         description="年度，2000 到 2100"),
        OpenApiParameter("format", OpenApiTypes.STR, enum=list(REPORT_FORMATS), description="json（默认）、xlsx、docx 或 png"),
    ],
    responses={
        (200, "application/json"): AnnualReportSerializer,
        (200, XLSX): OpenApiTypes.BINARY,
        (200, DOCX): OpenApiTypes.BINARY,
        (200, PNG): OpenApiTypes.BINARY,
    },
))
class AnnualReportViewSet(ScopedViewSet):
    """The annual report, built live by ``reports.annual.annual_report_build``."""

    # the district's report, or (a liaison) the report of their own subtree
    capabilities = {"retrieve": (scoping.REPORTS_READ, scoping.REPORTS_READ_SUBTREE)}
    serializer_class = AnnualReportSerializer
    filter_backends: list = []
    lookup_field = "year"
    lookup_value_regex = "[0-9]{4}"
    content_negotiation_class = DownloadNegotiation

    def retrieve(self, request, *args, **kwargs):
        query = _query(ReportQuerySerializer, request)
        year = year_check(self.kwargs["year"])
        root = self.scope.report_root()
        report = annual_report_build(year=year, root=root)
        fmt = query["format"]
        if fmt == "json":
            return Response(report)
        name = annual_report_file_name(year=year, format=fmt)
        if root is not None:
            name = name.replace(f"-{year}.", f"-{year}-{root.code}.")
        return file_response(annual_report_render(report=report, format=fmt), content_type=REPORT_CONTENT_TYPES[fmt],
                             file_name=name)


@csrf_exempt  # it changes nothing: a POST to a path that does not exist is a 404, not a CSRF 403
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Any other path under /api/v1/ (including an id that is not a number): a JSON 404 like
    the API's own."""
    return JsonResponse({"detail": "未找到。", "code": "not_found"}, status=404)
