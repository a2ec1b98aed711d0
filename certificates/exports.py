"""Certificate lists as a terminal table, CSV, XLSX or JSON. Every file is formula-safe: a
text cell that Excel would read as a formula (=, +, -, @, tab, CR) is written as text (a quote
in CSV, Excel's quote prefix in XLSX), and 工号 and certificate numbers stay text. The lists hold
no ID numbers or phones."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import Any

from sheets.writers import csv_bytes, xlsx_bytes

from .selectors import LIST_KEYS, LIST_LABELS
from .state import STATE_LABELS

KIND_LABELS = {"enforcement": "执法证", "supervision": "监督证"}


def _shown(key: str, value: Any) -> str:
    if key == "state":
        return STATE_LABELS.get(value, str(value))
    if key == "kind":
        return KIND_LABELS.get(value, str(value))
    if key == "holder_left":
        return "是" if value else "否"
    return "" if value is None else str(value)


def _rows(entries: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[list[str]]:
    return [[_shown(k, e[k]) for k in keys] for e in entries]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def as_table(entries: Sequence[dict[str, Any]], *, keys: Sequence[str] = LIST_KEYS,
             labels: Sequence[str] = LIST_LABELS) -> str:
    rows = [list(labels)] + _rows(entries, keys)
    widths = [max(_width(r[i]) for r in rows) for i in range(len(keys))]
    lines = ["  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def as_csv(entries: Sequence[dict[str, Any]], *, keys: Sequence[str] = LIST_KEYS,
           labels: Sequence[str] = LIST_LABELS) -> bytes:
    """UTF-8 with a BOM (Excel then reads it as UTF-8), headings in Chinese; through the one writer."""
    return csv_bytes(labels, _rows(entries, keys))


def as_xlsx(entries: Sequence[dict[str, Any]], *, keys: Sequence[str] = LIST_KEYS,
            labels: Sequence[str] = LIST_LABELS, title: str = "执法证") -> bytes:
    numeric = {"days_left"}
    rows = (
        [e[k] if k in numeric and isinstance(e[k], int) else _shown(k, e[k]) for k in keys] for e in entries
    )
    text_columns = [i for i, k in enumerate(keys) if k not in numeric]
    return xlsx_bytes(title=title, headers=labels, rows=rows, text_columns=text_columns)


def as_json(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)
