"""What the server publishes about itself (RFC 7643 §5–7, RFC 7644 §4): the service provider
configuration, the resource types and the schemas, and the filterable attributes of each."""

from __future__ import annotations

from typing import Any

from .filters import Field

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
STAFF_EXT = "urn:legaltrack:params:scim:schemas:extension:staff:2.0:User"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SPC = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
USER_SCHEMAS = (CORE_USER, ENTERPRISE, STAFF_EXT)

# SCIM attribute (lower case, without its URN) -> the Staff field a filter compares
USER_FILTER_ATTRIBUTES: dict[str, Field] = {
    "id": Field("pk", "int"),
    "username": Field("staff_no", case_exact=True),
    "externalid": Field("external_id", case_exact=True),
    "active": Field("is_active", "bool"),
    "name.formatted": Field("name"),
    "displayname": Field("name"),
    "title": Field("position"),
    "phonenumbers": Field("phone", case_exact=True),
    "phonenumbers.value": Field("phone", case_exact=True),
    "employeenumber": Field("staff_no", case_exact=True),
    "department": Field("unit__code", case_exact=True),
    "category": Field("category"),
    "ishead": Field("is_head", "bool"),
    "enforcementcert": Field("enforcement_cert", case_exact=True),
    "meta.created": Field("created_at", "datetime"),
    "meta.lastmodified": Field("updated_at", "datetime"),
}
GROUP_FILTER_ATTRIBUTES: dict[str, Field] = {
    "id": Field("pk", "int"),
    "displayname": Field("name"),
    "externalid": Field("code", case_exact=True),
    "meta.created": Field("created_at", "datetime"),
}


def attribute(name: str, type_: str = "string", *, multi: bool = False, required: bool = False,
              mutability: str = "readWrite", returned: str = "default", uniqueness: str = "none",
              case_exact: bool = False, description: str = "", sub: list[dict] | None = None,
              canonical: list[str] | None = None, reference_types: list[str] | None = None) -> dict[str, Any]:
    attr: dict[str, Any] = {
        "name": name, "type": type_, "multiValued": multi, "description": description, "required": required,
        "caseExact": case_exact, "mutability": mutability, "returned": returned, "uniqueness": uniqueness,
    }
    if sub is not None:
        attr["subAttributes"] = sub
    if canonical is not None:
        attr["canonicalValues"] = canonical
    if reference_types is not None:
        attr["referenceTypes"] = reference_types
    return attr


def user_schema() -> dict[str, Any]:
    return {
        "id": CORE_USER, "name": "User", "description": "人员（名册中的一名在编人员）",
        "attributes": [
            attribute("userName", required=True, uniqueness="server", case_exact=True, mutability="immutable",
                      description="工号（名册的主键，建立后不能修改）"),
            attribute("externalId", case_exact=True, description="人事系统中的标识"),
            attribute("name", "complex", required=True, description="姓名", sub=[
                attribute("formatted", required=True, description="姓名"),
            ]),
            attribute("displayName", mutability="readOnly",
                      description="姓名（即 name.formatted；只在没有 name.formatted 时读取）"),
            attribute("title", description="职务"),
            attribute("active", "boolean", description="在册；false 为停用"),
            attribute("phoneNumbers", "complex", multi=True, description="手机号（只保存一个）", sub=[
                attribute("value", description="手机号"),
                attribute("type", canonical=["work", "mobile"], description="类型"),
                attribute("primary", "boolean", description="首选"),
            ]),
            attribute("groups", "complex", multi=True, mutability="readOnly", description="所在单位", sub=[
                attribute("value", mutability="readOnly", description="单位的 id"),
                attribute("display", mutability="readOnly", description="单位名称"),
                attribute("$ref", "reference", mutability="readOnly", reference_types=["Group"],
                          description="单位的地址"),
            ]),
        ],
        "meta": {"resourceType": "Schema", "location": f"/Schemas/{CORE_USER}"},
    }


def enterprise_schema(unit_codes: list[str]) -> dict[str, Any]:
    return {
        "id": ENTERPRISE, "name": "EnterpriseUser", "description": "企业扩展：工号与单位",
        "attributes": [
            attribute("employeeNumber", mutability="readOnly", case_exact=True, description="工号（与 userName 相同）"),
            attribute("department", required=True, case_exact=True, canonical=unit_codes,
                      description="单位代码（新增人员时必填）"),
        ],
        "meta": {"resourceType": "Schema", "location": f"/Schemas/{ENTERPRISE}"},
    }


def staff_schema() -> dict[str, Any]:
    return {
        "id": STAFF_EXT, "name": "LegalTrackStaff", "description": "本系统的人员扩展",
        "attributes": [
            attribute("idNumber", required=True, mutability="writeOnly", returned="never", case_exact=True,
                      description="身份证号（只写，从不返回；新增人员时必填）"),
            attribute("category", description="人员类别"),
            attribute("isHead", "boolean", description="单位正职"),
            attribute("enforcementCert", case_exact=True, description="执法证号"),
        ],
        "meta": {"resourceType": "Schema", "location": f"/Schemas/{STAFF_EXT}"},
    }


def group_schema() -> dict[str, Any]:
    return {
        "id": CORE_GROUP, "name": "Group", "description": "单位（只读；成员即该单位的在册人员）",
        "attributes": [
            attribute("displayName", mutability="readOnly", required=True, description="单位名称"),
            attribute("externalId", mutability="readOnly", case_exact=True, description="单位代码"),
            attribute("members", "complex", multi=True, mutability="readOnly", description="在册人员", sub=[
                attribute("value", mutability="readOnly", description="人员的 id"),
                attribute("display", mutability="readOnly", description="姓名"),
                attribute("$ref", "reference", mutability="readOnly", reference_types=["User"],
                          description="人员的地址"),
            ]),
        ],
        "meta": {"resourceType": "Schema", "location": f"/Schemas/{CORE_GROUP}"},
    }


def all_schemas(unit_codes: list[str]) -> list[dict[str, Any]]:
    schemas = [user_schema(), enterprise_schema(unit_codes), staff_schema(), group_schema()]
    for schema in schemas:
        schema["schemas"] = [SCHEMA]
    return schemas


def resource_types() -> list[dict[str, Any]]:
    return [
        {
            "schemas": [RESOURCE_TYPE], "id": "User", "name": "User", "endpoint": "/Users",
            "description": "人员", "schema": CORE_USER,
            "schemaExtensions": [{"schema": ENTERPRISE, "required": True}, {"schema": STAFF_EXT, "required": True}],
            "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/User"},
        },
        {
            "schemas": [RESOURCE_TYPE], "id": "Group", "name": "Group", "endpoint": "/Groups",
            "description": "单位（只读）", "schema": CORE_GROUP, "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/Group"},
        },
    ]


def service_provider_config(*, max_results: int) -> dict[str, Any]:
    return {
        "schemas": [SPC],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": max_results},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [{
            "type": "oauthbearertoken", "name": "Bearer 令牌", "primary": True,
            "description": "Authorization: Bearer <令牌>，令牌由 POST /api/v1/auth/token/ 签发（hr 或 provisioner 角色）。",
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": "/ServiceProviderConfig"},
    }
