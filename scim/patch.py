"""PATCH (RFC 7644 §3.5.2) on a resource's JSON: add, replace and remove, with or without a
path; a path is ``attr``, ``attr.sub``, ``urn:...:attr``, ``attr[filter]`` or
``attr[filter].sub``. The patched JSON then goes through the same mapping as a PUT, so a
PATCH is validated and recorded exactly like a replacement. Pure logic."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from .errors import ScimError, invalid_path, invalid_syntax, invalid_value
from .filters import And, Compare, Not, Or, parse
from .schemas import PATCH_OP

_PATH = re.compile(r"^(?P<attr>[A-Za-z$][\w$-]*)(?:\[(?P<filter>[^\]]*)\])?(?:\.(?P<sub>[A-Za-z$][\w$-]*))?$")


@dataclass(frozen=True)
class Path:
    container: str | None  # the extension URN holding the attribute, None for the core
    attr: str | None  # None: the whole extension (``urn:...:User`` itself)
    filter: Any = None
    sub: str | None = None


def parse_path(text: str, urns: tuple[str, ...]) -> Path:
    text = (text or "").strip()
    container = None
    rest = text
    for urn in sorted(urns, key=len, reverse=True):
        if text.lower() == urn.lower():
            return Path(urn, None)
        if text.lower().startswith(urn.lower() + ":"):
            container, rest = urn, text[len(urn) + 1:]
            break
    if container is not None and container == urns[0]:
        container = None  # the core schema's own URN
    dotted = rest.split(".", 1) if "[" not in rest else [rest]
    match = _PATH.match(rest) if "[" in rest or len(dotted) == 1 else _PATH.match(f"{dotted[0]}.{dotted[1]}")
    if match is None:
        raise invalid_path(f"路径“{text}”无效。")
    value_filter = parse(match.group("filter")) if match.group("filter") is not None else None
    return Path(container, match.group("attr"), value_filter, match.group("sub"))


def _key(obj: dict[str, Any], name: str) -> str:
    for k in obj:
        if k.lower() == name.lower():
            return k
    return name


def matches(node: Any, item: Any) -> bool:
    """A value filter (``type eq "work"``) against one element of a multi-valued attribute."""
    if isinstance(node, And):
        return matches(node.left, item) and matches(node.right, item)
    if isinstance(node, Or):
        return matches(node.left, item) or matches(node.right, item)
    if isinstance(node, Not):
        return not matches(node.inner, item)
    assert isinstance(node, Compare)
    if not isinstance(item, dict):
        return False
    key = _key(item, node.attr)
    value = item.get(key)
    if node.op == "pr":
        return value not in (None, "", [], {})
    if isinstance(value, str) and isinstance(node.value, str):
        a, b = value.lower(), node.value.lower()
    else:
        a, b = value, node.value
    if node.op == "eq":
        return a == b
    if node.op == "ne":
        return a != b
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    return {"co": b in a, "sw": a.startswith(b), "ew": a.endswith(b),
            "gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[node.op]


def apply(resource: dict[str, Any], body: Any, *, urns: tuple[str, ...]) -> dict[str, Any]:
    """The resource after the operations of a PatchOp body; ``ScimError`` when one is bad."""
    if not isinstance(body, dict):
        raise invalid_syntax("请求体应为一个 JSON 对象。")
    if PATCH_OP not in (body.get("schemas") or []):
        raise invalid_syntax(f"PATCH 请求体的 schemas 应包含 {PATCH_OP}。")
    operations = body.get("Operations", body.get("operations"))
    if not isinstance(operations, list) or not operations:
        raise invalid_syntax("PATCH 请求体缺少 Operations。")
    doc = copy.deepcopy(resource)
    for n, operation in enumerate(operations, start=1):
        if not isinstance(operation, dict):
            raise invalid_syntax(f"第 {n} 个操作应为一个对象。")
        op = str(operation.get("op", "")).lower()
        if op not in ("add", "replace", "remove"):
            raise invalid_syntax(f"第 {n} 个操作的 op 应为 add、replace 或 remove。")
        path_text = operation.get("path")
        value = operation.get("value")
        if path_text in (None, ""):
            if op == "remove":
                raise ScimError(400, f"第 {n} 个操作（remove）缺少 path。", "noTarget")
            if not isinstance(value, dict):
                raise invalid_value(f"第 {n} 个操作没有 path，value 应为一个对象。")
            for key, sub_value in value.items():
                if any(str(key).lower() == urn.lower() for urn in urns[1:]) and isinstance(sub_value, dict):
                    for ext_key, ext_value in sub_value.items():
                        _apply_one(doc, op, parse_path(f"{key}:{ext_key}", urns), ext_value)
                else:
                    _apply_one(doc, op, parse_path(str(key), urns), sub_value)
            continue
        if not isinstance(path_text, str):
            raise invalid_path(f"第 {n} 个操作的 path 应为文本。")
        if op != "remove" and "value" not in operation:
            raise invalid_value(f"第 {n} 个操作（{op}）缺少 value。")
        _apply_one(doc, op, parse_path(path_text, urns), value)
    return doc


def _apply_one(doc: dict[str, Any], op: str, path: Path, value: Any) -> None:
    if path.container is not None:
        holder = doc.setdefault(_key(doc, path.container), {})
        if path.attr is None:  # the whole extension
            if op == "remove":
                doc.pop(_key(doc, path.container), None)
            elif not isinstance(value, dict):
                raise invalid_value(f"{path.container} 的值应为一个对象。")
            else:
                for k, v in value.items():
                    holder[_key(holder, k)] = v
            return
    else:
        holder = doc
    key = _key(holder, path.attr)
    current = holder.get(key)
    if path.filter is not None:
        if not isinstance(current, list):
            if op == "remove" or op == "replace":
                raise ScimError(400, f"路径“{path.attr}[...]”没有匹配的值。", "noTarget")
            current = []
        hits = [item for item in current if matches(path.filter, item)]
        if not hits and op in ("replace", "remove"):
            raise ScimError(400, f"路径“{path.attr}[...]”没有匹配的值。", "noTarget")
        if op == "remove":
            if path.sub:
                for item in hits:
                    item.pop(_key(item, path.sub), None)
            else:
                holder[key] = [item for item in current if item not in hits]
            return
        for item in hits:
            if path.sub:
                item[_key(item, path.sub)] = value
            elif isinstance(value, dict):
                item.update(value)
            else:
                raise invalid_value(f"路径“{path.attr}[...]”的值应为一个对象。")
        return
    if path.sub:
        if op == "remove":
            if isinstance(current, dict):
                current.pop(_key(current, path.sub), None)
            elif isinstance(current, list):
                for item in current:
                    if isinstance(item, dict):
                        item.pop(_key(item, path.sub), None)
            return
        if current is None or not isinstance(current, (dict, list)):
            current = holder[key] = {}
        if isinstance(current, list):
            for item in current:
                if isinstance(item, dict):
                    item[_key(item, path.sub)] = value
            return
        current[_key(current, path.sub)] = value
        return
    if op == "remove":
        holder.pop(key, None)
        return
    if op == "add" and isinstance(current, list):
        holder[key] = current + (value if isinstance(value, list) else [value])
    elif isinstance(current, dict) and isinstance(value, dict):
        for k, v in value.items():
            current[_key(current, k)] = v
    else:
        holder[key] = value
