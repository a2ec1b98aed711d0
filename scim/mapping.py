"""Staff <-> SCIM User and Unit -> SCIM Group (RFC 7643 §4): what each attribute means here.

userName = 工号; externalId = HR's own id; name.formatted and displayName = 姓名; active;
title = 职务; phoneNumbers = the phone; the enterprise ``employeeNumber`` = 工号 and
``department`` = unit code; our extension: idNumber (write-only, never returned), category,
isHead, enforcementCert."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from roster.models import Staff, Unit

from .errors import invalid_syntax, invalid_value
from .schemas import CORE_GROUP, CORE_USER, ENTERPRISE, STAFF_EXT, USER_SCHEMAS


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def user_resource(staff: Staff, *, base: str) -> dict[str, Any]:
    """The full User (what GET answers before ``attributes``/``excludedAttributes``)."""
    location = f"{base}/Users/{staff.pk}"
    resource: dict[str, Any] = {
        "schemas": list(USER_SCHEMAS),
        "id": str(staff.pk),
        "userName": staff.staff_no,
        "name": {"formatted": staff.name},
        "displayName": staff.name,
        "active": staff.is_active,
        ENTERPRISE: {"employeeNumber": staff.staff_no, "department": staff.unit.code},
        STAFF_EXT: {"category": staff.category, "isHead": staff.is_head, "enforcementCert": staff.enforcement_cert},
        "groups": [{"value": str(staff.unit_id), "display": staff.unit.name, "$ref": f"{base}/Groups/{staff.unit_id}"}],
        "meta": {"resourceType": "User", "created": _iso(staff.created_at), "lastModified": _iso(staff.updated_at),
                 "location": location},
    }
    if staff.external_id:
        resource["externalId"] = staff.external_id
    if staff.position:
        resource["title"] = staff.position
    if staff.phone:
        resource["phoneNumbers"] = [{"value": staff.phone, "type": "work"}]
    ext = resource[STAFF_EXT]
    for key in ("category", "enforcementCert"):
        if not ext[key]:
            del ext[key]
    return resource


def group_resource(unit: Unit, *, base: str, members: list[tuple[int, str]] | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "schemas": [CORE_GROUP],
        "id": str(unit.pk),
        "displayName": unit.name,
        "externalId": unit.code,
        "meta": {"resourceType": "Group", "created": _iso(unit.created_at), "location": f"{base}/Groups/{unit.pk}"},
    }
    if members is not None:
        resource["members"] = [
            {"value": str(pk), "display": name, "$ref": f"{base}/Users/{pk}", "type": "User"} for pk, name in members
        ]
    return resource


# --- in ---------------------------------------------------------------------------------
def _lower_keys(obj: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in obj.items()}


def _text(value: Any, label: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise invalid_value(f"{label}应为文本。")
    return str(value).strip()


def _bool(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):  # some clients send strings
        return value.lower() == "true"
    raise invalid_value(f"{label}应为 true 或 false。")


def _phone(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, list):
        value = [value]
    items = [v for v in value if isinstance(v, dict)]
    if len(items) != len(value):
        raise invalid_value("phoneNumbers 应为由 {\"value\": ...} 组成的列表。")
    if not items:
        return ""
    # one phone is kept: the (last) primary one, else the last one (a PATCH add appends)
    primary = [v for v in items if _lower_keys(v).get("primary") is True]
    chosen = _lower_keys((primary or items)[-1])
    return _text(chosen.get("value"), "手机号（phoneNumbers.value）")


@dataclass
class UserFields:
    """What a User body says, in roster terms. ``present`` lists the fields it gives."""

    values: dict[str, Any] = field(default_factory=dict)
    department: str | None = None

    def __contains__(self, name: str) -> bool:
        return name in self.values


def user_fields(body: Any, *, previous: Staff | None) -> UserFields:
    """The roster fields of a User body (POST, PUT, or the resource a PATCH produced). Read-only
    attributes (id, meta, groups, employeeNumber) are ignored, as RFC 7643 §7 says. Absent
    optional attributes are empty (a PUT replaces the whole resource); the ID number, which is
    never returned, is kept when absent, and so are the unit and ``active``."""
    if not isinstance(body, dict):
        raise invalid_syntax("请求体应为一个 JSON 对象。")
    core = _lower_keys(body)
    for urn in USER_SCHEMAS:
        core.pop(urn.lower(), None)
    enterprise = _extension(body, ENTERPRISE)
    ours = _extension(body, STAFF_EXT)
    out = UserFields()
    v = out.values
    v["staff_no"] = _text(core.get("username"), "工号（userName）")
    if not v["staff_no"]:
        raise invalid_value("缺少 userName（工号）。")
    v["external_id"] = _text(core.get("externalid"), "externalId")
    name = core.get("name")
    if name is not None and not isinstance(name, dict):
        raise invalid_value("name 应为一个对象（name.formatted 为姓名）。")
    formatted = _text(_lower_keys(name or {}).get("formatted"), "姓名（name.formatted）")
    display = _text(core.get("displayname"), "姓名（displayName）")
    v["name"] = _one_name(formatted, display, previous)
    if not v["name"]:
        raise invalid_value("缺少姓名（name.formatted 或 displayName）。")
    v["position"] = _text(core.get("title"), "职务（title）")
    v["phone"] = _phone(core.get("phonenumbers"))
    if "active" in core and core["active"] is not None:
        v["is_active"] = _bool(core["active"], "active")
    if enterprise.get("department") not in (None, ""):
        out.department = _text(enterprise["department"], "单位代码（department）")
    v["category"] = _text(ours.get("category"), "人员类别（category）")
    v["is_head"] = _bool(ours["ishead"], "isHead") if ours.get("ishead") is not None else False
    v["enforcement_cert"] = _text(ours.get("enforcementcert"), "执法证号（enforcementCert）")
    if ours.get("idnumber") not in (None, ""):
        v["id_number"] = _text(ours["idnumber"], "身份证号（idNumber）")
    return out


def _extension(body: dict[str, Any], urn: str) -> dict[str, Any]:
    for key, value in body.items():
        if str(key).lower() == urn.lower():
            if value is None:
                return {}
            if not isinstance(value, dict):
                raise invalid_value(f"{urn} 应为一个对象。")
            return _lower_keys(value)
    return {}


def _one_name(formatted: str, display: str, previous: Staff | None) -> str:
    """name.formatted and displayName are both 姓名. displayName is published read-only and
    read only when there is no name.formatted; but a PATCH that changes only displayName
    (some clients do) changes the name."""
    if previous is not None and formatted == previous.name and display and display != previous.name:
        return display
    return formatted or display


# --- attributes / excludedAttributes (RFC 7644 §3.4.2.5) ---------------------------------
ALWAYS = {"id", "schemas"}


def _split(names: str | None) -> list[str]:
    return [n.strip() for n in (names or "").split(",") if n.strip()]


def _path_parts(name: str, urns: tuple[str, ...]) -> list[str]:
    for urn in urns:
        if name.lower() == urn.lower():
            return [urn]
        if name.lower().startswith(urn.lower() + ":"):
            return [urn, *name[len(urn) + 1:].split(".")]
    return name.split(".")


def _get_key(obj: dict[str, Any], key: str) -> str | None:
    for k in obj:
        if k.lower() == key.lower():
            return k
    return None


def project(resource: dict[str, Any], *, attributes: str | None, excluded: str | None,
            urns: tuple[str, ...]) -> dict[str, Any]:
    """The resource with only the attributes asked for (plus id and schemas), or without the
    excluded ones."""
    wanted = _split(attributes)
    if wanted:
        out: dict[str, Any] = {k: v for k, v in resource.items() if k in ALWAYS}
        for name in wanted:
            parts = _path_parts(name, urns)
            # a core attribute named with the core URN
            if parts[0] in (CORE_USER, CORE_GROUP) and len(parts) > 1:
                parts = parts[1:]
            _copy(resource, out, parts)
        return out
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in resource.items()}
    for name in _split(excluded):
        parts = _path_parts(name, urns)
        if parts[0] in (CORE_USER, CORE_GROUP) and len(parts) > 1:
            parts = parts[1:]
        if len(parts) == 1 and parts[0].lower() in ALWAYS:
            continue
        _drop(out, parts)
    return out


def _copy(src: dict[str, Any], dst: dict[str, Any], parts: list[str]) -> None:
    key = _get_key(src, parts[0])
    if key is None:
        return
    if len(parts) == 1:
        dst[key] = src[key]
        return
    value = src[key]
    if isinstance(value, dict):
        _copy(value, dst.setdefault(key, {}), parts[1:])
    elif isinstance(value, list):
        sub = _get_key(value[0], parts[1]) if value and isinstance(value[0], dict) else None
        if sub is not None:
            dst[key] = [{sub: item[sub]} for item in value if isinstance(item, dict) and sub in item]


def _drop(obj: dict[str, Any], parts: list[str]) -> None:
    key = _get_key(obj, parts[0])
    if key is None:
        return
    if len(parts) == 1:
        del obj[key]
        return
    value = obj[key]
    if isinstance(value, dict):
        obj[key] = dict(value)
        _drop(obj[key], parts[1:])
    elif isinstance(value, list):
        obj[key] = [{k: v for k, v in item.items() if k.lower() != parts[1].lower()} for item in value]
