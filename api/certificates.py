"""The certificate register over HTTP: the list, the figures, the register import and the
renewal by an exam. Reads are narrowed by the one scoping helper (a liaison: their subtree);
writes call ``certificates`` services."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from certificates import capabilities as cert_caps
from certificates.imports import certificate_import_create, certificate_import_run
from certificates.models import Certificate, CertificateKind
from certificates.renewal import certificates_renew
from certificates.selectors import STAT_KEYS, STATE_CHOICES, certificate_entry, certificate_stats, certificates_on
from exams.models import Exam

from .parsers import LimitedMultiPartParser
from .serializers import (
    ImportRecordSerializer,
    KeepBlankFormValueMixin,
    SheetUploadSerializer,
    StrictBooleanField,
    StrictChoiceField,
)
from .throttling import ApiUserRateThrottle, UploadRateThrottle
from .views import ID_PARAMETER, UNIT_PARAMETER, ScopedViewSet, _query


class StrictDateField(KeepBlankFormValueMixin, serializers.DateField):
    """A date in the query: sent empty, it is refused (not taken as "today")."""


class CertificateQuerySerializer(serializers.Serializer):
    unit = serializers.CharField(required=False, max_length=64, help_text="单位代码：该单位及其全部下级单位")
    on = StrictDateField(required=False, input_formats=["%Y-%m-%d"], help_text="按哪一天计算状态，默认今天")


class CertificateListQuerySerializer(CertificateQuerySerializer):
    state = StrictChoiceField(choices=[(s, s) for s in STATE_CHOICES], required=False,
                              help_text="状态；left 为持证人已离册、证件未注销")
    kind = StrictChoiceField(choices=CertificateKind.choices, required=False)


class CertificateSerializer(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.ChoiceField(choices=CertificateKind.choices)
    staff_no = serializers.CharField()
    name = serializers.CharField()
    unit_code = serializers.CharField()
    unit_name = serializers.CharField()
    issued_on = serializers.DateField()
    expires_on = serializers.DateField()
    state = serializers.ChoiceField(choices=[(s, s) for s in STATE_CHOICES[:-1]])
    holder_left = serializers.BooleanField()
    days_left = serializers.IntegerField()


def _counts_fields() -> dict[str, serializers.Field]:
    return {key: serializers.IntegerField() for key in STAT_KEYS}


CertificateUnitStatsSerializer = type("CertificateUnitStatsSerializer", (serializers.Serializer,), {
    "unit_code": serializers.CharField(), "unit_name": serializers.CharField(), **_counts_fields(),
})
CertificateStatsSerializer = type("CertificateStatsSerializer", (serializers.Serializer,), {
    "on": serializers.DateField(), **_counts_fields(), "by_unit": CertificateUnitStatsSerializer(many=True),
})


class CertificateUploadSerializer(SheetUploadSerializer):
    strict = StrictBooleanField(form=True, default=False, help_text="严格模式：任何一行有问题则不导入任何证件")
    dry_run = StrictBooleanField(form=True, default=False, help_text="试运行：检查并报告，不作任何改动")


class RenewRequestSerializer(serializers.Serializer):
    dry_run = StrictBooleanField(default=False, help_text="试运行：列出将续期的证件，不作任何改动")


class RenewedCertificateSerializer(serializers.Serializer):
    number = serializers.CharField()
    staff_no = serializers.CharField()
    old_expires_on = serializers.DateField()
    new_expires_on = serializers.DateField()


class RenewalResultSerializer(serializers.Serializer):
    exam_id = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    renewed = serializers.IntegerField()
    already_renewed = serializers.IntegerField()
    not_due = serializers.IntegerField()
    certificates = RenewedCertificateSerializer(many=True)


ON_PARAMETER = OpenApiParameter("on", OpenApiTypes.DATE, description="按哪一天计算状态（YYYY-MM-DD），默认今天")


@extend_schema_view(list=extend_schema(
    summary="执法证登记：每张证件在某日的状态（有效、待续期、已过期……）与持证人是否已离册，按单位、有效期排序",
    parameters=[
        UNIT_PARAMETER, ON_PARAMETER,
        OpenApiParameter("state", OpenApiTypes.STR, enum=list(STATE_CHOICES), description="状态；left：持证人已离册"),
        OpenApiParameter("kind", OpenApiTypes.STR, enum=list(CertificateKind.values)),
    ],
))
class CertificateViewSet(ScopedViewSet):
    capabilities = {"list": cert_caps.CERTIFICATES_READ, "stats": cert_caps.CERTIFICATES_READ}
    serializer_class = CertificateSerializer
    filter_backends: list = []

    def _base(self):
        return self.scope.narrow(Certificate.objects.all(), unit_field="staff__unit")

    def list(self, request, *args, **kwargs):
        query = _query(CertificateListQuerySerializer, request)
        on = query.get("on") or _today()
        unit = self.scope.within(query.get("unit"))
        qs = certificates_on(on=on, unit=unit, state=query.get("state"), kind=query.get("kind"), base=self._base())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response([certificate_entry(cert, on=on) for cert in page])

    @extend_schema(summary="执法证统计：持证人数（按人计）与各状态证件数，按单位树逐级汇总",
                   parameters=[UNIT_PARAMETER, ON_PARAMETER], responses={200: CertificateStatsSerializer})
    @action(detail=False, methods=["get"], pagination_class=None)
    def stats(self, request, *args, **kwargs):
        query = _query(CertificateQuerySerializer, request)
        unit = self.scope.within(query.get("unit"))
        return Response(certificate_stats(on=query.get("on") or _today(), unit=unit, base=self._base(),
                                          units=self.scope.units()))


@extend_schema_view(create=extend_schema(
    summary="上传执法证登记（法治办），与 import_certificates 命令相同的导入；返回导入记录",
    request={"multipart/form-data": CertificateUploadSerializer}, responses={201: ImportRecordSerializer},
))
class CertificateImportViewSet(ScopedViewSet):
    capabilities = {"create": cert_caps.CERTIFICATES_WRITE}
    serializer_class = ImportRecordSerializer
    filter_backends: list = []
    parser_classes = [LimitedMultiPartParser]
    throttle_classes = [ApiUserRateThrottle, UploadRateThrottle]

    def create(self, request, *args, **kwargs):
        serializer = CertificateUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        record = certificate_import_create(
            file=upload.read(settings.SHEETS_MAX_BYTES + 1), file_name=upload.name or "certificates",
            strict=serializer.validated_data["strict"], dry_run=serializer.validated_data["dry_run"],
            started_by=request.user, source="api", root=self.scope.write_root,
        )
        certificate_import_run(record=record)
        record.refresh_from_db()
        return Response(ImportRecordSerializer(record).data, status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api:import-detail", kwargs={"pk": record.pk})})


@extend_schema_view(create=extend_schema(
    summary="按执法续职考试续期执法证（法治办）：合格者待续期或已过期的执法证延期；dry_run 为预览",
    parameters=[ID_PARAMETER], request=RenewRequestSerializer, responses={200: RenewalResultSerializer},
))
class ExamRenewCertificatesViewSet(ScopedViewSet):
    capabilities = {"create": cert_caps.CERTIFICATES_WRITE}
    serializer_class = RenewalResultSerializer
    filter_backends: list = []

    def create(self, request, *args, **kwargs):
        exam = self.scope.get(self.scope.exams_managed(Exam.objects.all()), pk=self.kwargs["id"])
        serializer = RenewRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = certificates_renew(exam=exam, dry_run=serializer.validated_data["dry_run"], user=request.user)
        return Response(result.as_dict())


def _today():
    return timezone.localdate()

