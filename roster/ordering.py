"""The one unit order: the tree order, depth first, siblings by ``sort_order`` then code.

``Unit.tree_key`` stores each unit's place in that order (kept by
``roster.units.units_rebuild_paths`` whenever the tree, a sort order or a code changes), so
every page, list, picker, command and report orders units with one column:

- querysets of units: ``.order_by(*unit_order())``
- querysets of rows that point at a unit: ``.order_by(*unit_order("unit__"), ...)``
- lists already in memory (dicts or units with ``tree_key``/``code``): ``sorted(.., key=unit_sort_key)``
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

TREE_ORDER_FIELDS = ("tree_key", "code")


def unit_order(prefix: str = "") -> list[str]:
    """The ORDER BY terms of the tree order, for units reached through ``prefix``."""
    return [f"{prefix}{name}" for name in TREE_ORDER_FIELDS]


def unit_sort_key(unit: Any) -> tuple[int, str]:
    """Sort key of a unit (model instance, dataclass or values() dict) in the tree order."""
    if isinstance(unit, dict):
        return (unit.get("tree_key") or 0, unit.get("code") or unit.get("unit_code") or "")
    return (getattr(unit, "tree_key", 0) or 0, getattr(unit, "code", "") or "")


def tree_keys(units: Iterable[tuple[int, int | None, int, str]]) -> dict[int, int]:
    """(id, parent id, sort_order, code) of every unit -> its place in the tree order, from 1.
    Units whose parent is missing from the list are roots."""
    rows = list(units)
    ids = {pk for pk, _, _, _ in rows}
    children: dict[int | None, list[tuple[int, str, int]]] = {}
    for pk, parent, order, code in rows:
        children.setdefault(parent if parent in ids else None, []).append((order, code, pk))
    for kids in children.values():
        kids.sort()
    keys: dict[int, int] = {}
    stack = [pk for _, _, pk in reversed(children.get(None, []))]
    while stack:
        pk = stack.pop()
        if pk in keys:
            continue
        keys[pk] = len(keys) + 1
        stack.extend(child for _, _, child in reversed(children.get(pk, [])))
    for pk, _, _, _ in rows:  # a loop in the parent links (never stored): after the rest
        keys.setdefault(pk, len(keys) + 1)
    return keys
