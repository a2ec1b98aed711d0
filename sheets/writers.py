"""The one writer of every CSV and XLSX the system hands out.

Callers give headings and rows of plain values; this module decides how each value is stored:

- **Formula-safe.** Text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return cannot evaluate: in CSV the field gets a leading apostrophe (``'=HYPERLINK(...)``); in
  XLSX it is a text cell (``data_type`` ``s``) marked with Excel's quote prefix, never a
  formula cell.
- **Clean.** Control characters (C0 and C1, but tab, newline and CR) are dropped, so a name
  stored before they were refused never breaks a file.
- **Numbers stay numbers** (a ``Decimal`` becomes an int or a float); the columns a caller names
  in ``text_columns`` (工号, ID numbers, phones) are text cells with the ``@`` format, so
  Excel keeps their leading zeros and digits.
- ``text_whole_columns``: those columns are formatted as text as a whole (the column's style),
  not only the cells written, for a template a person fills in.
- XLSX is written with openpyxl's write-only workbook (streaming), to bytes or to a file.
- CSV for people has a UTF-8 BOM (``csv_bytes``), so Excel reads it as UTF-8.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO, Any

from config.text import strip_controls

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_FORMAT = "@"
# characters a sheet's name may not hold, and its length
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f-\x9f]")
_SHEET_TITLE_MAX = 31


def is_formula_like(value: str) -> bool:
    return value.startswith(FORMULA_STARTS)


def csv_value(value: Any) -> Any:
    """One CSV field: text cleaned, formula-like text behind an apostrophe; numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool | int | float):
        return value
    text = strip_controls(value if isinstance(value, str) else str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, lineterminator: str = "\r\n") -> str:
    """A CSV document as text: the heading row, then the rows, every field through ``csv_value``."""
    return "".join(csv_pieces(headers, rows, lineterminator=lineterminator))


def csv_pieces(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, lineterminator: str = "\r\n",
               batch: int = 1000) -> Iterator[str]:
    """``csv_text`` in pieces of ``batch`` rows, for a streamed download: memory stays flat
    however many rows ``rows`` (an iterator) yields."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator)
    writer.writerow([csv_value(h) for h in headers])
    for n, row in enumerate(rows, start=1):
        writer.writerow([csv_value(v) for v in row])
        if n % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_stream(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, lineterminator: str = "\r\n") -> Iterator[bytes]:
    """``csv_bytes`` in pieces (UTF-8, the BOM in the first), for a StreamingHttpResponse."""
    for i, piece in enumerate(csv_pieces(headers, rows, lineterminator=lineterminator)):
        yield piece.encode("utf-8-sig" if i == 0 else "utf-8")


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, lineterminator: str = "\r\n") -> bytes:
    """``csv_text`` as UTF-8 with a BOM, for a file a person opens in Excel."""
    return csv_text(headers, rows, lineterminator=lineterminator).encode("utf-8-sig")


def sheet_title(value: str) -> str:
    """A name Excel accepts for a sheet: no ``[]:*?/\\`` or control characters, 31 at most."""
    title = _SHEET_TITLE_BAD.sub("", value).strip().strip("'")[:_SHEET_TITLE_MAX]
    return title or "Sheet"


class XlsxSheet:
    """One sheet of an ``XlsxWriter``; ``append`` writes a row as it comes (streaming)."""

    def __init__(
        self, book: XlsxWriter, title: str, headers: Sequence[str], *, widths: Sequence[int] = (),
        text_columns: Iterable[int] = (), formats: dict[int, str] | None = None, wrap_columns: Iterable[int] = (),
        caption: str | None = None, header_fill: str | None = None, text_whole_columns: bool = False,
    ) -> None:
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        self._sheet = sheet = book.workbook.create_sheet(sheet_title(title))
        self._text = frozenset(text_columns)
        self._formats = dict(formats or {})
        self._wrap = frozenset(wrap_columns)
        self._wrap_alignment = Alignment(wrap_text=True, vertical="top")
        for column, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(column)].width = width
        if text_whole_columns:
            # the whole column is text, so what a person types under the headings (a template)
            # keeps its leading zeros and all 18 digits
            for column in self._text:
                sheet.column_dimensions[get_column_letter(column + 1)].number_format = TEXT_FORMAT
        header_row = 1
        if caption is not None:
            header_row = 2
        sheet.freeze_panes = f"A{header_row + 1}"
        if caption is not None:
            sheet.append([self._styled(caption, font=Font(bold=True, size=13))])
        font = Font(bold=True)
        fill = PatternFill("solid", fgColor=header_fill) if header_fill else None
        centre = Alignment(horizontal="center", vertical="center", wrap_text=True) if header_fill else None
        sheet.append([self._styled(h, font=font, fill=fill, alignment=centre) for h in headers])
        self.rows = 0

    def _styled(self, value: Any, *, font: Any = None, fill: Any = None, alignment: Any = None) -> Any:
        cell = self._cell(value, None)
        if not hasattr(cell, "font"):
            from openpyxl.cell import WriteOnlyCell

            cell = WriteOnlyCell(self._sheet, value=cell)
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if alignment is not None:
            cell.alignment = alignment
        return cell

    def _cell(self, value: Any, column: int | None) -> Any:
        """The value as openpyxl should write it: a plain value where that is safe (cheaper),
        else a write-only cell carrying its type and style."""
        if value is None:
            return None
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else float(value)
        text_column = column in self._text
        if isinstance(value, bool | int | float) and not text_column:
            number_format = self._formats.get(column)
            if number_format is None:
                return value
            from openpyxl.cell import WriteOnlyCell

            cell = WriteOnlyCell(self._sheet, value=value)
            cell.number_format = number_format
            return cell
        if isinstance(value, dt.date | dt.time) and not text_column:
            return value
        text = strip_controls(value if isinstance(value, str) else str(value))
        formula_like = text.startswith(FORMULA_STARTS)
        wrap = column in self._wrap
        if not (formula_like or text_column or wrap):
            return text
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self._sheet, value=text)
        cell.data_type = "s"
        if formula_like:
            cell.quotePrefix = True
        if text_column:
            cell.number_format = TEXT_FORMAT
        if wrap:
            cell.alignment = self._wrap_alignment
        return cell

    def append(self, values: Sequence[Any]) -> None:
        cell = self._cell
        self._sheet.append([cell(value, column) for column, value in enumerate(values)])
        self.rows += 1

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            self.append(values)


class XlsxWriter:
    """A streaming workbook: ``sheet(...)`` adds a sheet (in order), ``save`` writes it out.

    Column positions in ``text_columns``, ``formats`` and ``wrap_columns`` count from 0."""

    def __init__(self) -> None:
        from openpyxl import Workbook

        self.workbook = Workbook(write_only=True)

    def sheet(self, title: str, headers: Sequence[str], **options: Any) -> XlsxSheet:
        return XlsxSheet(self, title, headers, **options)

    def save(self, out: IO[bytes] | None = None) -> bytes | None:
        """Write to ``out``; without one, return the bytes."""
        if out is not None:
            self.workbook.save(out)
            return None
        buffer = io.BytesIO()
        self.workbook.save(buffer)
        return buffer.getvalue()


def xlsx_bytes(*, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], **options: Any) -> bytes:
    """A workbook of one sheet, as bytes."""
    book = XlsxWriter()
    book.sheet(title, headers, **options).extend(rows)
    data = book.save()
    assert data is not None
    return data
