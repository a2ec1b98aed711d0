"""The not-sat list as a terminal table, CSV, JSON or XLSX (for the command line and API)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Iterator, Sequence

from sheets import writers

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
    """The not-sat list as CSV text (heading row: the JSON keys), formula-safe."""
    return writers.csv_text(NOT_SAT_KEYS, ([e[k] for k in NOT_SAT_KEYS] for e in entries), lineterminator="\n")


def as_csv_stream(entries: Iterable[dict[str, str]]) -> Iterator[bytes]:
    """``as_csv`` as UTF-8 pieces (a BOM first, for Excel), from an iterator of entries: a
    streamed download whose memory does not grow with the list."""
    return writers.csv_stream(NOT_SAT_KEYS, ([e[k] for k in NOT_SAT_KEYS] for e in entries), lineterminator="\n")


def as_json(entries: Sequence[dict[str, str]]) -> str:
    return json.dumps(list(entries), ensure_ascii=False)


def as_xlsx(entries: Sequence[dict[str, str]], *, title: str = "未参考人员") -> bytes:
    """The not-sat list as a workbook: every cell text (staff numbers and phones keep their
    leading zeros), formula-safe."""
    return writers.xlsx_bytes(
        title=title, headers=NOT_SAT_LABELS, rows=([e[k] for k in NOT_SAT_KEYS] for e in entries),
        text_columns=range(len(NOT_SAT_KEYS)), widths=(10, 10, 10, 28, 14, 14),
    )
