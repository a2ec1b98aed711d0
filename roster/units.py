"""Writes of the unit tree: the units file import, parent checks and the materialised paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count

from config.errors import DomainError, Problem
from sheets.reader import SheetError, read_table

from .columns import UNIT_SCHEMA
from .models import Staff, Unit, UnitKind
from .ordering import tree_keys
from .roster_rows import UnitLookup

KIND_WORDS = {
    **{k.value: k.value for k in UnitKind},
    **{str(k.label): k.value for k in UnitKind},
    "行政": UnitKind.ADMIN,
    "机关": UnitKind.ADMIN,
    "区": UnitKind.ADMIN,
    "街道": UnitKind.TOWN,
    "乡镇": UnitKind.TOWN,
    "教育": UnitKind.EDUCATION,
    "教育局": UnitKind.EDUCATION,
}


# the words a 上级代码 cell may hold to say "this unit is the root of the tree"
ROOT_WORDS = {"根", "根单位", "无", "ROOT", "-", "/"}
UNIT_FIELDS = ("name", "parent", "kind", "sort_order")


@dataclass
class UnitImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[Problem] = field(default_factory=list)
    applied: bool = False
    dry_run: bool = False
    changes: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "applied": self.applied,
            "dry_run": self.dry_run,
            "changes": self.changes,
            "moves": self.moves,
            "errors": [p.as_dict() for p in self.errors],
        }


def unit_import(*, data: bytes, filename: str, dry_run: bool = False) -> UnitImportResult:
    """Create or update units by code from a units file. All or nothing.

    A column the file does not have (上级代码, 类型, 排序) leaves the stored value alone, and so
    does an empty 类型 or 排序 cell. An empty 上级代码 cell on a unit that has a parent is an
    error unless the cell says the unit is the root (根/ROOT/无/-). Moving a unit with staff or
    sub-units is allowed and reported in ``moves``."""
    result = UnitImportResult(dry_run=dry_run)
    try:
        table = read_table(data, filename=filename, schema=UNIT_SCHEMA)
    except SheetError as exc:
        result.errors = exc.problems
        return result

    existing = {u.code: u for u in Unit.objects.all()}
    code_of = {u.pk: c for c, u in existing.items()}
    wanted: dict[str, dict[str, Any]] = {}
    controls = table.control_problems()
    for row in table.rows:
        code = table.value(row, "code").upper()
        problems_before = len(result.errors)
        result.errors.extend(controls.get(row.number, ()))
        spec = _row_spec(table, row, code, existing.get(code), code_of, result.errors)
        if not code:
            result.errors.append(Problem(row.number, table.label("code"), "", "单位代码为空。"))
        elif code in wanted:
            result.errors.append(Problem(row.number, table.label("code"), code, "单位代码重复。"))
        if len(result.errors) == problems_before:
            wanted[code] = spec

    known_codes = set(existing) | set(wanted)
    for code, spec in wanted.items():
        parent_code = spec["parent_code"]
        if parent_code and parent_code not in known_codes:
            result.errors.append(Problem(spec["row"], table.label("parent_code"), parent_code, "上级单位代码不存在。"))
        if parent_code == code:
            result.errors.append(Problem(spec["row"], table.label("parent_code"), parent_code, "上级单位不能是自己。"))
    if not result.errors:
        cycle = _find_cycle(existing, wanted)
        if cycle:
            result.errors.append(
                Problem(wanted[cycle[0]]["row"], table.label("parent_code"), cycle[0], f"上级关系形成循环：{' → '.join(cycle)}。")
            )
    if result.errors:
        result.errors.sort(key=lambda p: p.row or 0)
        return result

    _describe_changes(result, existing, code_of, wanted)
    if dry_run:
        return result
    with transaction.atomic():
        to_create = [
            Unit(code=code, name=spec["name"], kind=spec["kind"], sort_order=spec["sort_order"])
            for code, spec in wanted.items()
            if code not in existing
        ]
        Unit.objects.bulk_create(to_create)
        by_code = {u.code: u for u in Unit.objects.all()}
        changed: list[Unit] = []
        for code, spec in wanted.items():
            unit = by_code[code]
            parent_id = by_code[spec["parent_code"]].pk if spec["parent_code"] else None
            values = {"name": spec["name"], "kind": spec["kind"], "sort_order": spec["sort_order"], "parent_id": parent_id}
            if any(getattr(unit, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(unit, k, v)
                changed.append(unit)
        Unit.objects.bulk_update(changed, ["name", "kind", "sort_order", "parent_id"])
        units_rebuild_paths()
    result.applied = True
    return result


def _row_spec(table: Any, row: Any, code: str, current: Unit | None, code_of: dict[int, str], errors: list[Problem]) -> dict[str, Any]:
    """One row's wanted values, with the stored ones where the file says nothing."""
    name = table.value(row, "name")
    if not name:
        errors.append(Problem(row.number, table.label("name"), "", "单位名称为空。"))
    stored_parent = code_of.get(current.parent_id) if current is not None and current.parent_id else ""
    parent_code = stored_parent or ""
    if table.has("parent_code"):
        parent_text = table.value(row, "parent_code").upper()
        if parent_text in ROOT_WORDS:
            parent_code = ""
        elif parent_text:
            parent_code = parent_text
        elif stored_parent:
            errors.append(Problem(
                row.number, table.label("parent_code"), "",
                f"上级代码为空，但该单位现属“{stored_parent}”；若要设为根单位，请填“根”，否则请填上级代码或删去此列。",
            ))
        else:
            parent_code = ""
    kind = current.kind if current is not None else UnitKind.OTHER
    kind_text = table.value(row, "kind")
    if kind_text:
        found = KIND_WORDS.get(kind_text.lower() if kind_text.isascii() else kind_text)
        if found is None:
            errors.append(
                Problem(row.number, table.label("kind"), kind_text, "单位类型应为 admin/department/town/education/school/other 或对应中文。")
            )
        else:
            kind = found
    sort_order = current.sort_order if current is not None else 0
    order_text = table.value(row, "sort_order")
    if order_text:
        try:
            sort_order = int(float(order_text))
        except ValueError:
            errors.append(Problem(row.number, table.label("sort_order"), order_text, "排序应为整数。"))
    return {"row": row.number, "name": name, "parent_code": parent_code, "kind": str(kind), "sort_order": sort_order}


def _describe_changes(
    result: UnitImportResult, existing: dict[str, Unit], code_of: dict[int, str], wanted: dict[str, dict[str, Any]]
) -> None:
    """Fill counts, ``changes`` ({code, field, old, new}) and ``moves`` before anything is written."""
    moved_codes: list[tuple[str, str | None, str | None]] = []
    for code, spec in wanted.items():
        unit = existing.get(code)
        new = {"name": spec["name"], "parent": spec["parent_code"] or None, "kind": spec["kind"], "sort_order": spec["sort_order"]}
        if unit is None:
            result.created += 1
            result.changes.extend({"code": code, "field": f, "old": None, "new": new[f]} for f in UNIT_FIELDS)
            continue
        old = {"name": unit.name, "parent": code_of.get(unit.parent_id) if unit.parent_id else None,
               "kind": unit.kind, "sort_order": unit.sort_order}
        diffs = [{"code": code, "field": f, "old": old[f], "new": new[f]} for f in UNIT_FIELDS if old[f] != new[f]]
        result.changes.extend(diffs)
        if diffs:
            result.updated += 1
        else:
            result.unchanged += 1
        if old["parent"] != new["parent"]:
            moved_codes.append((code, old["parent"], new["parent"]))
    if not moved_codes:
        return
    ids = [existing[c].pk for c, _, _ in moved_codes]
    staff = dict(Staff.objects.filter(unit_id__in=ids, is_active=True).order_by().values_list("unit_id").annotate(n=Count("id")))
    subs = dict(Unit.objects.filter(parent_id__in=ids).order_by().values_list("parent_id").annotate(n=Count("id")))
    for code, old_parent, new_parent in moved_codes:
        pk = existing[code].pk
        result.moves.append({"code": code, "old_parent": old_parent, "new_parent": new_parent,
                             "staff": staff.get(pk, 0), "sub_units": subs.get(pk, 0)})


def unit_parent_check(*, unit: Unit, parent: Unit | None) -> None:
    """A unit's parent may not be the unit itself or one of its own sub-units: the tree would
    become a loop. For forms that save a unit themselves (the admin); raises DomainError."""
    if parent is None or unit.pk is None:
        return
    if parent.pk == unit.pk or parent.path.startswith(unit.path):
        raise DomainError(f"上级单位不能是“{unit.name}”本身或它的下级单位，否则单位树会成环。")


def _find_cycle(existing: dict[str, Unit], wanted: dict[str, dict[str, Any]]) -> list[str] | None:
    id_to_code = {u.pk: c for c, u in existing.items()}
    parent_of = {c: id_to_code.get(u.parent_id) for c, u in existing.items()}
    parent_of.update({c: (spec["parent_code"] or None) for c, spec in wanted.items()})
    for start in wanted:
        seen = [start]
        node = parent_of.get(start)
        while node is not None:
            if node in seen:
                return seen[seen.index(node) :] + [node]
            seen.append(node)
            node = parent_of.get(node)
    return None


def units_rebuild_paths() -> int:
    """Recompute every unit's path, depth and tree order (``tree_key``) from the parent links,
    sort orders and codes: one read, one bulk write of the rows that changed."""
    units = list(Unit.objects.only("id", "parent_id", "path", "depth", "tree_key", "sort_order", "code"))
    parent_of = {u.pk: u.parent_id for u in units}
    paths: dict[int, str] = {}
    keys = tree_keys((u.pk, u.parent_id, u.sort_order, u.code) for u in units)

    def path_of(pk: int) -> str:
        if pk not in paths:
            parent = parent_of[pk]
            paths[pk] = (path_of(parent) if parent else "/") + f"{pk}/"
        return paths[pk]

    changed = []
    for unit in units:
        path = path_of(unit.pk)
        depth = path.count("/") - 2
        if unit.path != path or unit.depth != depth or unit.tree_key != keys[unit.pk]:
            unit.path, unit.depth, unit.tree_key = path, depth, keys[unit.pk]
            changed.append(unit)
    Unit.objects.bulk_update(changed, ["path", "depth", "tree_key"], batch_size=1000)
    return len(changed)


def unit_lookup(*, root: Unit | None = None) -> UnitLookup:
    """Every unit by code and by name. ``root``: a scoped sync's subtree; a unit outside it
    resolves to an error naming the root (the row is refused)."""
    by_code: dict[str, int] = {}
    by_name: dict[str, int | None] = {}
    inactive: set[int] = set()
    outside: set[int] = set()
    for pk, code, name, active, path in Unit.objects.values_list("id", "code", "name", "is_active", "path"):
        by_code[code] = pk
        by_name[name] = None if name in by_name else pk
        if not active:
            inactive.add(pk)
        if root is not None and not path.startswith(root.path):
            outside.add(pk)
    return UnitLookup(by_code=by_code, by_name=by_name, inactive=inactive, outside=frozenset(outside),
                      root_label=f"“{root.name}”（{root.code}）" if root is not None else "")


