"""The not-sat list as a terminal table, CSV, JSON or XLSX (for the command line and API)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence

from .selectors import NOT_SAT_KEYS, NOT_SAT_LABELS


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def as_table(entries: Sequence[dict[str, str]]) -> str:
    rows = [list(NOT_SAT_LABELS)] + [[e[k] for k in NOT_SAT_KEYS] for e in entries]
    widths = [max(_width(r[i]) for r in rows) for i in range(len(NOT_SAT_KEYS))]
    lines = ["  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def as_csv(entries: Sequence[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=NOT_SAT_KEYS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(entries)
    return buffer.getvalue()


def as_json(entries: Sequence[dict[str, str]]) -> str:
    return json.dumps(list(entries), ensure_ascii=False)


def as_xlsx(entries: Sequence[dict[str, str]], *, title: str = "未参考人员") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(list(NOT_SAT_LABELS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for entry in entries:
        sheet.append([entry[k] for k in NOT_SAT_KEYS])
    # staff numbers and phones stay text, so Excel keeps their leading zeros
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.number_format = "@"
    for letter, width in zip("ABCDEF", (10, 10, 10, 28, 14, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
