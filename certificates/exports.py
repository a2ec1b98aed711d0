"""Certificate lists as a terminal table, CSV, XLSX or JSON. Every file is formula-safe: a
text cell that Excel would read as a formula (=, +, -, @, tab, CR) is written as text (a quote
in CSV, Excel's quote prefix in XLSX), and 工号 and certificate numbers stay text. The lists hold
no ID numbers or phones."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from typing import Any

from reports.render import FORMULA_STARTS

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


def safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


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
    """UTF-8 with a BOM (Excel then reads it as UTF-8), headings in Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(labels)
    for row in _rows(entries, keys):
        writer.writerow([safe_text(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def as_xlsx(entries: Sequence[dict[str, Any]], *, keys: Sequence[str] = LIST_KEYS,
            labels: Sequence[str] = LIST_LABELS, title: str = "执法证") -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    heading = []
    for label in labels:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    numeric = {"days_left"}
    for entry in entries:
        cells = []
        for key in keys:
            value = entry[key]
            if key in numeric and isinstance(value, int):
                cells.append(WriteOnlyCell(sheet, value=value))
                continue
            cell = WriteOnlyCell(sheet, value=_shown(key, value))
            cell.number_format = "@"
            cell.data_type = "s"
            if cell.value and str(cell.value).startswith(FORMULA_STARTS):
                cell.quotePrefix = True
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def as_json(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)
