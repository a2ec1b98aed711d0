"""/scim/v2/: the discovery endpoints, Users and Groups (RFC 7644). Thin: reads through the
scoping helper's ``scim_staff``/``scim_units``, writes through ``scim.services``; every answer
is ``application/scim+json`` and every error a SCIM error in Chinese; every request audited."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from access.scoping import scope_for
from api.parsers import LimitedJSONParser
from audit.models import AuditAction
from audit.services import audit_record
from roster.models import Staff, Unit

from . import filters, schemas, services
from .authentication import BearerTokenAuthentication, ScimPermission, ScimRateThrottle
from .errors import ScimError, invalid_value, not_found
from .mapping import group_resource, project, user_resource

logger = logging.getLogger(__name__)


class ScimRenderer(JSONRenderer):
    media_type = "application/scim+json"
    format = "scim"
    charset = "utf-8"


class ScimJSONRenderer(JSONRenderer):
    charset = "utf-8"


class ScimParser(LimitedJSONParser):
    media_type = "application/scim+json"


def _error_of(exc: Exception) -> ScimError:
    if isinstance(exc, ScimError):
        return exc
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        detail = str(exc.detail) if isinstance(exc, exceptions.AuthenticationFailed) else "请提供令牌：Authorization: Bearer <令牌>。"
        return ScimError(401, detail)
    if isinstance(exc, exceptions.PermissionDenied):
        return ScimError(403, ScimPermission.message)
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, int(-(-(exc.wait or 1) // 1)))
        error = ScimError(429, f"请求过于频繁，请 {wait} 秒后再试。")
        error.retry_after = wait
        return error
    if isinstance(exc, exceptions.MethodNotAllowed):
        return ScimError(405, "此地址不支持该请求方法（单位 Groups 只读）。")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return ScimError(415, "请求内容类型应为 application/scim+json 或 application/json。")
    if isinstance(exc, exceptions.NotAcceptable):
        return ScimError(406, "只能以 application/scim+json 或 application/json 应答。")
    if isinstance(exc, exceptions.ParseError):
        return ScimError(400, "请求内容不是有效的 JSON。", "invalidSyntax")
    if isinstance(exc, exceptions.APIException) and exc.status_code == 413:
        return ScimError(413, str(exc.detail))
    if isinstance(exc, (Http404, exceptions.NotFound)):
        return not_found()
    logger.exception("scim request failed")
    return ScimError(500, "内部错误：请求未能完成。")


class ScimView(APIView):
    schema = None  # SCIM publishes its own description (/Schemas, /ResourceTypes); not in /api/schema/
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [ScimPermission]
    throttle_classes = [ScimRateThrottle]
    renderer_classes = [ScimRenderer, ScimJSONRenderer]
    parser_classes = [ScimParser, LimitedJSONParser]
    audited_rows = 0

    def handle_exception(self, exc: Exception) -> Response:
        error = _error_of(exc)
        response = Response(error.body(), status=error.status)
        if error.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="scim"'
        if error.retry_after:
            response["Retry-After"] = str(error.retry_after)
        return response

    def finalize_response(self, request, response, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False) and response.status_code != 401:
            try:
                audit_record(user=user, action=AuditAction.SCIM, target=f"{request.method} {request.path}"[:255],
                             reason=f"SCIM {response.status_code}", rows=self.audited_rows,
                             address=request.META.get("REMOTE_ADDR"))
            except Exception:  # the answer stands; the failure is logged
                logger.exception("scim audit failed")
        return response

    @property
    def base(self) -> str:
        return self.request.build_absolute_uri("/scim/v2").rstrip("/")

    def scope(self):
        return scope_for(self.request.user)


def _list_response(resources: list[dict], *, total: int, start: int) -> dict[str, Any]:
    return {"schemas": [schemas.LIST_RESPONSE], "totalResults": total, "itemsPerPage": len(resources),
            "startIndex": start, "Resources": resources}


def _paging(params) -> tuple[int, int]:
    try:
        start = int(params.get("startIndex") or 1)
        count = int(params.get("count") if params.get("count") is not None else settings.SCIM_MAX_RESULTS)
    except (TypeError, ValueError):
        raise invalid_value("startIndex 和 count 应为整数。")
    return max(start, 1), min(max(count, 0), settings.SCIM_MAX_RESULTS)


class ServiceProviderConfigView(ScimView):
    def get(self, request):
        return Response(schemas.service_provider_config(max_results=settings.SCIM_MAX_RESULTS))


class ResourceTypesView(ScimView):
    def get(self, request, name: str | None = None):
        types = schemas.resource_types()
        if name is not None:
            found = [t for t in types if t["id"] == name]
            if not found:
                raise not_found(f"资源类型“{name}”不存在。")
            return Response(found[0])
        return Response(_list_response(types, total=len(types), start=1))


class SchemasView(ScimView):
    def get(self, request, urn: str | None = None):
        codes = list(Unit.objects.filter(is_active=True).order_by("code").values_list("code", flat=True))
        all_schemas = schemas.all_schemas(codes)
        if urn is not None:
            found = [s for s in all_schemas if s["id"] == urn]
            if not found:
                raise not_found(f"模式“{urn}”不存在。")
            return Response(found[0])
        return Response(_list_response(all_schemas, total=len(all_schemas), start=1))


def _names(value: Any) -> str | None:
    """``attributes`` as a query string gives it ("a,b") or a .search body does (["a", "b"])."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    raise invalid_value("attributes / excludedAttributes 应为属性名的列表。")


class _Resources(ScimView):
    def params(self) -> dict[str, Any]:
        """The query's parameters: the query string, or the body of a POST .search."""
        return getattr(self, "search_params", None) or self.request.query_params

    def projected(self, resource: dict) -> dict:
        params = self.params()
        return project(resource, attributes=_names(params.get("attributes")),
                       excluded=_names(params.get("excludedAttributes")), urns=self.urns)

    def page(self, qs: QuerySet, attributes: dict) -> tuple[list, int, int]:
        text = self.params().get("filter")
        if text:
            if not isinstance(text, str):
                raise invalid_value("filter 应为文本。")
            qs = qs.filter(filters.filter_q(text, attributes, self.urns))
        start, count = _paging(self.params())
        total = qs.count()
        items = list(qs.order_by("pk")[start - 1:start - 1 + count]) if count else []
        return items, total, start


class UsersView(_Resources):
    urns = schemas.USER_SCHEMAS

    def get(self, request):
        staff, total, start = self.page(self.scope().scim_staff(), schemas.USER_FILTER_ATTRIBUTES)
        self.audited_rows = len(staff)
        resources = [self.projected(user_resource(s, base=self.base)) for s in staff]
        return Response(_list_response(resources, total=total, start=start))

    def post(self, request):
        staff = services.scim_user_create(body=request.data)
        self.audited_rows = 1
        resource = user_resource(staff, base=self.base)
        return Response(self.projected(resource), status=201, headers={"Location": resource["meta"]["location"]})


class UsersSearchView(UsersView):
    """POST /Users/.search (RFC 7644 §3.4.3): the query in a SearchRequest body."""

    def post(self, request):
        body = request.data
        if not isinstance(body, dict) or schemas.SEARCH_REQUEST not in (body.get("schemas") or []):
            raise ScimError(400, f"请求体应为 {schemas.SEARCH_REQUEST}。", "invalidSyntax")
        self.search_params = {k: v for k, v in body.items() if k != "schemas"} or {"count": None}
        return self.get(request)


class RootSearchView(ScimView):
    def post(self, request):
        raise ScimError(501, "不支持跨资源类型的搜索，请使用 POST /Users/.search。")


class UserView(_Resources):
    urns = schemas.USER_SCHEMAS

    def one(self, pk: str) -> Staff:
        if not pk.isdigit():
            raise not_found("人员不存在。")
        staff = self.scope().scim_staff().filter(pk=int(pk)).first()
        if staff is None:
            raise not_found("人员不存在。")
        self.audited_rows = 1
        return staff

    def answer(self, staff: Staff) -> Response:
        resource = user_resource(staff, base=self.base)
        return Response(self.projected(resource), headers={"Location": resource["meta"]["location"]})

    def get(self, request, pk: str):
        return self.answer(self.one(pk))

    def put(self, request, pk: str):
        return self.answer(services.scim_user_replace(staff=self.one(pk), body=request.data))

    def patch(self, request, pk: str):
        return self.answer(services.scim_user_patch(staff=self.one(pk), body=request.data, base=self.base))

    def delete(self, request, pk: str):
        services.scim_user_delete(staff=self.one(pk))
        return Response(status=204)


def _members(units: list[Unit]) -> dict[int, list[tuple[int, str]]]:
    members: dict[int, list[tuple[int, str]]] = {u.pk: [] for u in units}
    rows = (Staff.objects.filter(unit_id__in=list(members), is_active=True).order_by("pk")
            .values_list("unit_id", "pk", "name"))
    for unit_id, pk, name in rows:
        members[unit_id].append((pk, name))
    return members


class _Groups(_Resources):
    urns = (schemas.CORE_GROUP,)

    def wants_members(self) -> bool:
        params = self.params()
        attributes = [a.strip().lower() for a in (_names(params.get("attributes")) or "").split(",") if a.strip()]
        excluded = [a.strip().lower() for a in (_names(params.get("excludedAttributes")) or "").split(",")
                    if a.strip()]
        if attributes:
            return any(a.split(".")[0].endswith("members") for a in attributes)
        return not any(a.endswith("members") for a in excluded)

    def resources(self, units: list[Unit]) -> list[dict]:
        members = _members(units) if self.wants_members() else {}
        return [self.projected(group_resource(u, base=self.base, members=members.get(u.pk))) for u in units]


class GroupsView(_Groups):
    def get(self, request):
        units, total, start = self.page(self.scope().scim_units(), schemas.GROUP_FILTER_ATTRIBUTES)
        return Response(_list_response(self.resources(units), total=total, start=start))


class GroupView(_Groups):
    def get(self, request, pk: str):
        unit = self.scope().scim_units().filter(pk=int(pk)).first() if pk.isdigit() else None
        if unit is None:
            raise not_found("单位不存在。")
        return Response(self.resources([unit])[0])


class NotFoundView(ScimView):
    """Any other address under /scim/v2/: a SCIM 404 (for a caller who may use SCIM)."""

    def get(self, request, *args: Any, **kwargs: Any):
        raise not_found("此地址不存在。")

    post = put = patch = delete = get
