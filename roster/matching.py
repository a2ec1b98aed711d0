"""Match the rows of an incoming file (exam results, exemptions, sign-in sheets) to staff.

One matcher for every import. Each import names the keys it allows, in order:

- exam results and exemptions: ``("staff_no", "id_number")``
- sign-in sheets: ``("staff_no", "id_number", "phone", "name_unit")``

A row is matched by the first of its keys that finds somebody. Every other key the row
carries must point at the same person, and a name beside a key must agree, otherwise the row
is a *conflict*: it is never credited to anyone. Lookups are a few set queries for the whole
file, never one per row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from config.errors import AMBIGUOUS, CONFLICT, INVALID, UNMATCHED, Problem
from sheets.reader import Row, Table

from . import idnumbers
from .models import Staff, Unit

STAFF_NO = "staff_no"
ID_NUMBER = "id_number"
PHONE = "phone"
NAME_UNIT = "name_unit"

KEY_LABELS = {STAFF_NO: "工号", ID_NUMBER: "身份证号", PHONE: "手机号", NAME_UNIT: "姓名"}
_NAME_NOISE = re.compile(r"[\s·•・．.]")
_CHUNK = 2000
# On PostgreSQL a random set of ID-number hashes is read by one scan whatever its size, so a
# large file is looked up in a few large queries rather than many small ones.
_CHUNK_POSTGRES = 20_000


def normalise_name(name: str) -> str:
    return _NAME_NOISE.sub("", name)


@dataclass(frozen=True, slots=True)
class StaffRef:
    id: int
    staff_no: str
    name: str
    unit_id: int
    is_active: bool


@dataclass(slots=True)
class Matched:
    row: Row
    staff: StaffRef
    matched_by: str


@dataclass
class MatchResult:
    matched: list[Matched] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return len({p.row for p in self.problems if p.kind == kind})


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    values = list(values)
    size = _CHUNK_POSTGRES if connection.vendor == "postgresql" else _CHUNK
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _among(field_name: str, values: list[str]) -> Q | RawSQL:
    """``field IN values``. PostgreSQL gets one array parameter (``= ANY``) instead of
    thousands of literals: twice as fast for a large results file (psycopg no longer splits a
    query of thousands of placeholders)."""
    if connection.vendor != "postgresql":
        return Q(**{f"{field_name}__in": values})
    column = f'"{Staff._meta.db_table}"."{Staff._meta.get_field(field_name).column}"'
    return RawSQL(f"{column} = ANY(%s)", [values], output_field=BooleanField())


def _hash_among(digests: list[str]) -> Q | RawSQL:
    return _among("id_number_hash", digests)


def _refs(*conditions: Q | RawSQL, **lookup: object) -> list[StaffRef]:
    fields = ("id", "staff_no", "name", "unit_id", "is_active")
    return [StaffRef(*values) for values in Staff.objects.filter(*conditions, **lookup).order_by().values_list(*fields)]


def match_rows(
    table: Table,
    *,
    keys: Sequence[str],
    name_field: str = "name",
    unit_field: str = "unit",
    within: Unit | None = None,
) -> MatchResult:
    """Match each row to one person. ``within``: only people of that unit's subtree may be
    matched (an exam owned by a scoped office, a scoped office's import); a row naming someone
    outside is a problem row, answered exactly as one naming nobody (no value echoed)."""
    from .units import unit_lookup

    result = MatchResult()
    inside = set(Unit.objects.filter(path__startswith=within.path).values_list("id", flat=True)) if within else None
    not_within = f"“{within.name}”（{within.code}）及其下级单位的名册中找不到此人，未导入。" if within else ""
    has = {key: table.has(key) for key in (STAFF_NO, ID_NUMBER, PHONE)}
    has[NAME_UNIT] = table.has(name_field) and table.has(unit_field)
    active_keys = [k for k in keys if has.get(k)]

    # --- read and check each row's keys ---------------------------------------------
    sealer = idnumbers.Sealer()
    older: dict[str, str] = {}  # an older hash key's digest -> the current digest
    today = dt.date.today()
    # the ID numbers of the whole file are checked and hashed as one column, not row by row
    id_checked: dict[int, tuple[str, str | None, str]] = {}  # row number -> (value, problem, digest)
    if ID_NUMBER in active_keys:
        typed = [(row.number, idnumbers.normalise(table.value(row, ID_NUMBER))) for row in table.rows
                 if table.value(row, ID_NUMBER) and not table.is_numeric(row, ID_NUMBER)]
        reasons = idnumbers.problems([value for _, value in typed], today=today)
        digests = sealer.digests([value if reason is None else "" for (_, value), reason in zip(typed, reasons, strict=True)])
        id_checked = {
            number: (value, reason, digest)
            for (number, value), reason, digest in zip(typed, reasons, digests, strict=True)
        }
        # during a rotation of the hash key a person may still carry the older digest
        if len(idnumbers.hash_secrets()) > 1:
            older = {
                old: digest for (_, value), digest in zip(typed, digests, strict=True) if digest
                for old in idnumbers.digests_all(value)[1:]
            }
    per_row: list[tuple[Row, dict[str, str]]] = []
    # a cell holding a control character makes its row invalid: it is never credited to anyone
    controls = table.control_problems()
    for row in table.rows:
        if controls and row.number in controls:
            result.problems.extend(controls[row.number])
            continue
        values: dict[str, str] = {}
        broken = False
        if STAFF_NO in active_keys:
            values[STAFF_NO] = table.value(row, STAFF_NO)
        if ID_NUMBER in active_keys:
            raw = table.value(row, ID_NUMBER)
            if raw:
                if table.is_numeric(row, ID_NUMBER):
                    result.problems.append(Problem(
                        row.number, table.label(ID_NUMBER), idnumbers.mask(raw),
                        idnumbers.EXCEL_NUMBER, INVALID,
                    ))
                    broken = True
                else:
                    value, reason, digest = id_checked[row.number]
                    if reason:
                        result.problems.append(Problem(row.number, table.label(ID_NUMBER), idnumbers.mask(value), reason, INVALID))
                        broken = True
                    else:
                        values[ID_NUMBER] = digest
        if PHONE in active_keys:
            values[PHONE] = re.sub(r"[\s\-]", "", table.value(row, PHONE))
        if NAME_UNIT in active_keys:
            name, unit = normalise_name(table.value(row, name_field)), table.value(row, unit_field)
            if name and unit:
                values[NAME_UNIT] = f"{name}\x1f{unit}"
        if broken:
            continue
        values = {k: v for k, v in values.items() if v}
        if not values:
            column = table.label(active_keys[0]) if active_keys else None
            result.problems.append(Problem(row.number, column, "", "本行没有可用于匹配人员的信息（工号、身份证号等均为空）。", INVALID))
            continue
        per_row.append((row, values))

    # --- a few set lookups for the whole file ---------------------------------------
    by_staff_no: dict[str, StaffRef] = {}
    by_hash: dict[str, StaffRef] = {}
    by_phone: dict[str, list[StaffRef]] = defaultdict(list)
    by_name_unit: dict[tuple[str, int], list[StaffRef]] = defaultdict(list)
    wanted: dict[str, set[str]] = defaultdict(set)
    for _, values in per_row:
        for key, value in values.items():
            wanted[key].add(value)
    for chunk in _chunks(sorted(wanted[STAFF_NO])):
        by_staff_no.update({ref.staff_no: ref for ref in _refs(_among("staff_no", chunk))})
    for chunk in _chunks(sorted(wanted[ID_NUMBER])):
        fields = ("id", "staff_no", "name", "unit_id", "is_active", "id_number_hash")
        for *ref_values, digest in Staff.objects.filter(_hash_among(chunk)).order_by().values_list(*fields):
            by_hash[digest] = StaffRef(*ref_values)
    wanted_older = sorted(old for old, digest in older.items() if digest in wanted[ID_NUMBER])
    for chunk in _chunks(wanted_older):
        fields = ("id", "staff_no", "name", "unit_id", "is_active", "id_number_hash")
        for *ref_values, digest in Staff.objects.filter(_hash_among(chunk)).order_by().values_list(*fields):
            by_hash.setdefault(older[digest], StaffRef(*ref_values))
    for chunk in _chunks(sorted(wanted[PHONE])):
        for *ref_values, phone in (
            Staff.objects.filter(phone__in=chunk, is_active=True).order_by()
            .values_list("id", "staff_no", "name", "unit_id", "is_active", "phone")
        ):
            by_phone[phone].append(StaffRef(*ref_values))
    units = unit_lookup() if wanted[NAME_UNIT] else None
    if wanted[NAME_UNIT]:
        names = sorted({v.split("\x1f", 1)[0] for v in wanted[NAME_UNIT]})
        for chunk in _chunks(names):
            for ref in _refs(name__in=chunk, is_active=True):
                by_name_unit[(normalise_name(ref.name), ref.unit_id)].append(ref)

    # --- resolve each row --------------------------------------------------------------
    for row, values in per_row:
        found: dict[str, StaffRef | None] = {}
        ambiguous_note = ""
        unknown_unit = ""
        for key in active_keys:
            value = values.get(key)
            if not value:
                continue
            if key == STAFF_NO:
                found[key] = by_staff_no.get(value)
            elif key == ID_NUMBER:
                found[key] = by_hash.get(value)
            elif key == PHONE:
                candidates = by_phone.get(value, [])
                found[key] = candidates[0] if len(candidates) == 1 else None
                if len(candidates) > 1:
                    ambiguous_note = ambiguous_note or f"手机号对应 {len(candidates)} 名在册人员，无法确定是谁。"
            elif key == NAME_UNIT:
                name, unit_text = value.split("\x1f", 1)
                unit_id, _ = units.resolve(unit_text) if units else (None, None)
                if unit_id is None:
                    unknown_unit = unit_text
                candidates = by_name_unit.get((name, unit_id), []) if unit_id else []
                found[key] = candidates[0] if len(candidates) == 1 else None
                if len(candidates) > 1:
                    ambiguous_note = ambiguous_note or (
                        f"单位“{unit_text}”中有 {len(candidates)} 名叫“{name}”的在册人员，无法确定是谁；请补充工号或手机号。"
                    )
        primary_key = next((k for k in active_keys if found.get(k) is not None), None)
        if primary_key is None:
            if ambiguous_note:
                column = table.label(name_field) if NAME_UNIT in values else table.label(PHONE)
                shown = table.value(row, name_field) if NAME_UNIT in values else idnumbers.mask_phone(values.get(PHONE, ""))
                result.problems.append(Problem(row.number, column, shown, ambiguous_note, AMBIGUOUS))
            else:
                key = next(k for k in active_keys if k in values)
                if key == NAME_UNIT and unknown_unit and units is not None:
                    # the unit is what failed, not the person: say so, with the names it may mean
                    close = units.close_names(unknown_unit)
                    message = f"单位名称无法识别：{unknown_unit}" + (f"（相近的单位：{'、'.join(close)}）" if close else "。")
                    result.problems.append(Problem(row.number, table.label(unit_field), unknown_unit, message, UNMATCHED))
                    continue
                column = table.label(name_field) if key == NAME_UNIT else table.label(key)
                message = "名册中找不到此人。" if within is None else not_within
                if key == STAFF_NO and table.is_numeric(row, STAFF_NO):
                    message += "该工号在 Excel 中是数字格式，开头的 0 可能已经丢失；请把该列设置为“文本”格式后重新导出。"
                shown = _shown(table, row, key, name_field) if within is None else ""
                result.problems.append(Problem(row.number, column, shown, message, UNMATCHED))
            continue
        staff = found[primary_key]
        assert staff is not None
        disagreeing = [
            k for k in active_keys
            if k in values and k not in (primary_key, PHONE)
            and not (k == NAME_UNIT and found.get(k) is None)
            and (found.get(k) is None or found[k].id != staff.id)
        ]
        if disagreeing:
            other = disagreeing[0]
            result.problems.append(Problem(
                row.number, table.label(name_field) if other == NAME_UNIT else table.label(other),
                _shown(table, row, other, name_field),
                f"{KEY_LABELS[primary_key]}与{KEY_LABELS[other]}指向的不是同一个人，未导入。", CONFLICT,
            ))
            continue
        row_name = normalise_name(table.value(row, name_field)) if table.has(name_field) else ""
        if row_name and primary_key != NAME_UNIT and row_name != normalise_name(staff.name):
            result.problems.append(Problem(
                row.number, table.label(name_field), table.value(row, name_field),
                f"{KEY_LABELS[primary_key]}对应人员的姓名与本行姓名不一致，未导入（可能是{KEY_LABELS[primary_key]}录入有误）。",
                CONFLICT,
            ))
            continue
        if inside is not None and staff.unit_id not in inside:
            # answered exactly as someone not on the roster at all: nothing about who is outside
            result.problems.append(Problem(
                row.number, table.label(primary_key) if primary_key != NAME_UNIT else table.label(name_field),
                "", not_within, UNMATCHED,
            ))
            continue
        result.matched.append(Matched(row=row, staff=staff, matched_by=primary_key))
    result.problems.sort(key=lambda p: p.row or 0)
    return result


def _shown(table: Table, row: Row, key: str, name_field: str) -> str:
    if key == ID_NUMBER:
        return idnumbers.mask(idnumbers.normalise(table.value(row, ID_NUMBER)))
    if key == PHONE:
        return idnumbers.mask_phone(table.value(row, PHONE))
    if key == NAME_UNIT:
        return table.value(row, name_field)
    return table.value(row, key)
