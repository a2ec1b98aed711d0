"""Training over HTTP beyond events and attendance: the people below their required hours
(``/training/hours-below/``) and an event's printable sign-in sheet
(``/events/{id}/signin-sheet.docx``). Reads are narrowed by the one scoping helper (a liaison:
their subtree); every file of names with 工号 is audited."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.views import APIView

from access import scoping
from access.scoping import scope_for
from audit.models import AuditAction
from audit.services import audit_record
from roster.models import Staff
from training import capabilities as training_caps
from training.exports import hours_row, to_csv, to_xlsx
from training.models import TrainingEvent
from training.selectors import event_audience, hours_below
from training.signin_sheet import sheet_rows, signin_sheet_docx, signin_sheet_file_name

from .serializers import StrictChoiceField, UnitQuerySerializer
from .throttling import ApiUserRateThrottle
from .views import (
    CSV,
    DOCX,
    ID_PARAMETER,
    UNIT_PARAMETER,
    XLSX,
    DownloadNegotiation,
    ScopedViewSet,
    _query,
    client_address,
    file_response,
)

HOURS_BELOW_FORMATS = ("json", "csv", "xlsx")


class HoursBelowQuerySerializer(UnitQuerySerializer):
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100, help_text="年度，默认今年")
    format = StrictChoiceField(choices=[(f, f) for f in HOURS_BELOW_FORMATS], required=False, default="json")


class HoursBelowEntrySerializer(serializers.Serializer):
    """One person below what the year requires of them: the columns of ``hours_below``."""

    staff_no = serializers.CharField()
    name = serializers.CharField()
    unit_code = serializers.CharField()
    unit_name = serializers.CharField()
    category = serializers.CharField(help_text="人员类别（名册）")
    hours = serializers.FloatField(help_text="本年度已计学时")
    required_hours = serializers.FloatField(help_text="应修学时：其人员类别的要求，否则为默认要求")
    missing_hours = serializers.FloatField(help_text="差额")


def _entry(staff: Staff) -> dict:
    row = hours_row(staff.staff_no, staff.name, staff.unit.code, staff.unit.name, staff.hours, staff.required_hours)
    row["category"] = staff.category
    return row


@extend_schema_view(list=extend_schema(
    summary="学时未达标人员：在册人员中本年度学时低于其应修学时（按人员类别，否则默认）的人员"
            "（单位联络员：本单位及下级单位）",
    parameters=[
        OpenApiParameter("year", {"type": "integer", "minimum": 2000, "maximum": 2100}, description="年度，默认今年"),
        UNIT_PARAMETER,
        OpenApiParameter("format", OpenApiTypes.STR, enum=list(HOURS_BELOW_FORMATS),
                         description="json（默认，分页）；csv 或 xlsx：下载全部（记入审计）"),
    ],
    responses={
        (200, "application/json"): HoursBelowEntrySerializer(many=True),
        (200, CSV): OpenApiTypes.BINARY,
        (200, XLSX): OpenApiTypes.BINARY,
    },
))
class HoursBelowViewSet(mixins.ListModelMixin, ScopedViewSet):
    capabilities = {"list": training_caps.HOURS_BELOW_READ}
    serializer_class = HoursBelowEntrySerializer
    queryset = Staff.objects.none()  # for the schema; the list comes from the selector
    filter_backends: list = []
    content_negotiation_class = DownloadNegotiation

    def list(self, request, *args, **kwargs):
        query = _query(HoursBelowQuerySerializer, request)
        year = query.get("year") or timezone.localdate().year
        unit = self.scope.within(query.get("unit"))
        below = self.scope.narrow(hours_below(year=year, unit=unit))
        if query["format"] == "json":
            page = self.paginate_queryset(below)
            return self.get_paginated_response([_entry(s) for s in page])
        # a download holds the whole list, yet a malformed page or page size is still refused
        self.paginator.get_page_size(request)
        self.paginator.get_page_number(request, None)
        rows = [_entry(s) for s in below]
        audit_record(
            user=request.user, action=AuditAction.EXPORT,
            target=f"training:{year}:hours_below" + (f":{unit.code}" if unit else ""),
            reason=f"接口下载学时未达标人员名单（{query['format']}）", rows=len(rows), address=client_address(request),
        )
        name = f"hours-below-{year}" + (f"-{unit.code}" if unit else "")
        if query["format"] == "csv":
            return file_response(to_csv(rows).encode("utf-8-sig"), content_type=f"{CSV}; charset=utf-8",
                                 file_name=f"{name}.csv")
        title = f"{unit.name if unit else '全区'} {year} 年学时未达标人员（{len(rows)} 人）"
        return file_response(to_xlsx(rows, title=title), content_type=XLSX, file_name=f"{name}.xlsx")


class SigninSheetView(APIView):
    """An event's printable sign-in sheet: its expected people of a unit (the caller's subtree
    for a liaison), with a column to sign. For those who run the event (``events_managed``)."""

    capabilities = {"get": scoping.EVENTS_WRITE}
    throttle_classes = [ApiUserRateThrottle]

    @extend_schema(
        summary="打印用签到表（Word，A4）：活动的应到人员（按单位），含签名栏和签到二维码（定时更换二维码的活动不印二维码）",
        parameters=[ID_PARAMETER, UNIT_PARAMETER],
        responses={(200, DOCX): OpenApiTypes.BINARY},
    )
    def get(self, request, id: int):
        scope = scope_for(request.user)
        event = scope.get(scope.events_managed(TrainingEvent.objects.select_related("organiser")), pk=id)
        unit = scope.within(request.query_params.get("unit"))
        people = list(scope.narrow(event_audience(event=event, unit=unit)))
        url = None if event.signin_rotates else request.build_absolute_uri(
            reverse("training:signin", args=[event.signin_token]))
        data = signin_sheet_docx(event=event, rows=sheet_rows(people), unit=unit, signin_url=url)
        audit_record(
            user=request.user, action=AuditAction.EXPORT,
            target=f"event:{event.pk}:signin_sheet" + (f":{unit.code}" if unit else ""),
            reason="接口下载打印用签到表", rows=len(people), address=client_address(request),
        )
        return file_response(data, content_type=DOCX, file_name=signin_sheet_file_name(event=event, unit=unit))
