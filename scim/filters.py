"""The SCIM filter grammar (RFC 7644 §3.4.2.2) as a small tokenizer and a recursive-descent
parser, and its translation into a Django ``Q`` over the roster.

    filter   = or
    or       = and *("or" and)
    and      = unary *("and" unary)
    unary    = "not" "(" filter ")" / "(" filter ")" / attrExp
    attrExp  = attrPath "pr" / attrPath compareOp compValue
    compValue = "string" / number / true / false / null

``not`` binds tighter than ``and``, which binds tighter than ``or``. Operators and attribute
names are case-insensitive; attribute names may carry their schema URN. Pure logic: the
attribute table says which model field each SCIM attribute is and how it compares."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from .errors import invalid_filter

COMPARE_OPS = {"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) |
        (?P<string>"(?:[^"\\]|\\.)*") |
        (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w:.$-])) |
        (?P<word>[A-Za-z][\w:.$-]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # lparen, rparen, string, number, word
    text: str
    value: Any = None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    text = text or ""
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise invalid_filter(f"过滤条件无法解析：第 {pos + 1} 个字符附近“{text[pos:pos + 10]}”。")
        kind = match.lastgroup
        raw = match.group(kind)
        value: Any = None
        if kind == "string":
            try:
                value = json.loads(raw)
            except ValueError:
                raise invalid_filter(f"过滤条件中的字符串 {raw[:20]} 无效。")
        elif kind == "number":
            value = float(raw) if any(c in raw for c in ".eE") else int(raw)
        tokens.append(Token(kind, raw, value))
        pos = match.end()
    return tokens


# --- the tree ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Compare:
    attr: str  # as written, e.g. "userName" or "urn:...:User:department"
    op: str  # lower-case: eq, ne, co, sw, ew, gt, ge, lt, le, pr
    value: Any = None


@dataclass(frozen=True)
class And:
    left: Any
    right: Any


@dataclass(frozen=True)
class Or:
    left: Any
    right: Any


@dataclass(frozen=True)
class Not:
    inner: Any


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise invalid_filter("过滤条件不完整。")
        self.i += 1
        return token

    def is_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.lower() in words

    def parse(self) -> Any:
        if not self.tokens:
            raise invalid_filter("过滤条件为空。")
        node = self.or_()
        if self.peek() is not None:
            raise invalid_filter(f"过滤条件中“{self.peek().text}”的位置不对。")
        return node

    def or_(self) -> Any:
        node = self.and_()
        while self.is_word("or"):
            self.take()
            node = Or(node, self.and_())
        return node

    def and_(self) -> Any:
        node = self.unary()
        while self.is_word("and"):
            self.take()
            node = And(node, self.unary())
        return node

    def group(self) -> Any:
        if self.take().kind != "lparen":
            raise invalid_filter("过滤条件中缺少“(”。")
        node = self.or_()
        token = self.peek()
        if token is None or token.kind != "rparen":
            raise invalid_filter("过滤条件中的括号不配对。")
        self.take()
        return node

    def unary(self) -> Any:
        token = self.peek()
        if token is None:
            raise invalid_filter("过滤条件不完整。")
        if self.is_word("not"):
            self.take()
            return Not(self.group())
        if token.kind == "lparen":
            return self.group()
        if token.kind != "word" or token.text.lower() in ("and", "or"):
            raise invalid_filter(f"过滤条件中“{token.text}”处应为属性名。")
        attr = self.take().text
        op_token = self.take()
        op = op_token.text.lower()
        if op_token.kind != "word" or (op not in COMPARE_OPS and op != "pr"):
            raise invalid_filter(f"过滤条件中“{op_token.text}”不是支持的运算符（eq ne co sw ew gt ge lt le pr）。")
        if op == "pr":
            return Compare(attr, "pr")
        value_token = self.take()
        if value_token.kind in ("string", "number"):
            return Compare(attr, op, value_token.value)
        literal = value_token.text.lower() if value_token.kind == "word" else ""
        if literal in ("true", "false"):
            return Compare(attr, op, literal == "true")
        if literal == "null":
            return Compare(attr, op, None)
        raise invalid_filter(f"过滤条件中“{value_token.text}”不是有效的比较值。")


def parse(text: str) -> Any:
    """The tree of a filter; ``ScimError`` (400 invalidFilter, in Chinese) when it is not one."""
    return _Parser(tokenize(text)).parse()


# --- the translation ---------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """Where a SCIM attribute lives: a model lookup, its kind (str, bool, int, datetime) and
    whether string comparisons respect case."""

    lookup: str
    kind: str = "str"
    case_exact: bool = False


def resolve(attr: str, attributes: dict[str, Field], schemas: tuple[str, ...]) -> Field:
    """The field of an attribute name, case-insensitively, with or without its schema URN."""
    name = attr.lower()
    for urn in schemas:
        if name.startswith(urn.lower() + ":"):
            name = name[len(urn) + 1:]
            break
    field = attributes.get(name)
    if field is None:
        raise invalid_filter(f"不支持按属性“{attr}”过滤。")
    return field


_STRING_LOOKUPS = {"eq": "exact", "co": "contains", "sw": "startswith", "ew": "endswith",
                   "gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}


def _compare_q(node: Compare, field: Field) -> Q:
    if node.op == "pr":
        if field.kind == "str":
            return ~Q(**{field.lookup: ""})
        return ~Q(**{f"{field.lookup}__isnull": True}) if field.kind != "bool" else Q()
    if node.value is None:
        if node.op in ("eq", "ne"):
            empty = Q(**{field.lookup: ""}) if field.kind == "str" else Q(**{f"{field.lookup}__isnull": True})
            return empty if node.op == "eq" else ~empty
        raise invalid_filter("null 只能与 eq 或 ne 一起使用。")
    if field.kind == "bool":
        if not isinstance(node.value, bool) or node.op not in ("eq", "ne"):
            raise invalid_filter("布尔属性只能用 eq 或 ne 与 true / false 比较。")
        q = Q(**{field.lookup: node.value})
        return q if node.op == "eq" else ~q
    if field.kind == "int":
        if isinstance(node.value, bool) or node.op in ("co", "sw", "ew"):
            raise invalid_filter("该属性只能与数字比较（eq ne gt ge lt le）。")
        try:
            number = int(str(node.value))
        except ValueError:
            return Q(pk__in=[]) if node.op != "ne" else Q()
        op = "exact" if node.op in ("eq", "ne") else _STRING_LOOKUPS[node.op]
        q = Q(**{f"{field.lookup}__{op}": number})
        return ~q if node.op == "ne" else q
    if isinstance(node.value, bool):
        raise invalid_filter("文本属性不能与 true / false 比较。")
    value = str(node.value)
    if field.kind == "datetime":
        from django.utils.dateparse import parse_datetime

        moment = parse_datetime(value)
        if moment is None or node.op in ("co", "sw", "ew"):
            raise invalid_filter(f"“{value}”不是有效的时间（应为 ISO 8601）。")
        op = "exact" if node.op in ("eq", "ne") else _STRING_LOOKUPS[node.op]
        q = Q(**{f"{field.lookup}__{op}": moment})
        return ~q if node.op == "ne" else q
    op = _STRING_LOOKUPS["eq" if node.op == "ne" else node.op]
    if not field.case_exact and op in ("exact", "contains", "startswith", "endswith"):
        op = "i" + op
    q = Q(**{f"{field.lookup}__{op}": value})
    return ~q if node.op == "ne" else q


def to_q(node: Any, attributes: dict[str, Field], schemas: tuple[str, ...] = ()) -> Q:
    """A ``Q`` for the tree; 400 invalidFilter for an attribute the table does not have."""
    if isinstance(node, And):
        return to_q(node.left, attributes, schemas) & to_q(node.right, attributes, schemas)
    if isinstance(node, Or):
        return to_q(node.left, attributes, schemas) | to_q(node.right, attributes, schemas)
    if isinstance(node, Not):
        return ~to_q(node.inner, attributes, schemas)
    return _compare_q(node, resolve(node.attr, attributes, schemas))


def filter_q(text: str, attributes: dict[str, Field], schemas: tuple[str, ...] = ()) -> Q:
    return to_q(parse(text), attributes, schemas)
