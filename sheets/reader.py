"""Read an uploaded spreadsheet (CSV or XLSX) into rows of clean strings.

Every cell comes back as a string. Cells that Excel stored as numbers (or dates) are marked,
so that callers can refuse an ID number whose digits Excel has already rounded away. Each
row carries the row number a person sees in Excel: the header and any title rows count.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import operator
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from config.errors import DomainError, Problem
from config.text import CONTROL_CHARS, control_message

from .columns import Column, Schema, normalise_header

logger = logging.getLogger(__name__)

HEADER_SCAN_ROWS = 30

# Full-width digits and Latin letters (U+FF10..U+FF5A) become half-width. Full-width
# punctuation is left alone on purpose: a full-width comma inside a CSV cell is text, not a
# delimiter.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)}
_FULLWIDTH.update({cp: cp - 0xFEE0 for cp in range(0xFF21, 0xFF3B)})
_FULLWIDTH.update({cp: cp - 0xFEE0 for cp in range(0xFF41, 0xFF5B)})
_FULLWIDTH[0x3000] = 0x20
_FULLWIDTH[0x200B] = None  # zero-width space, a frequent stowaway in copied cells
_FULLWIDTH[0xFEFF] = None


_NEEDS_TRANSLATION = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000\u200b\ufeff]")


def normalise_text(value: str) -> str:
    return value.translate(_FULLWIDTH).strip()


def _to_half_width(text: str) -> str:
    # str.translate walks every character through a dict; most files have nothing to change
    return text.translate(_FULLWIDTH) if _NEEDS_TRANSLATION.search(text) else text


class SheetError(DomainError):
    """The file as a whole cannot be read."""

    def __init__(self, message: str, *, column: str | None = None, problems: list[Problem] | None = None) -> None:
        super().__init__(
            message=message,
            problems=problems or [Problem(row=None, column=column, value=None, message=message)],
            code="unreadable",
        )


@dataclass(slots=True)
class Row:
    number: int
    values: tuple[str, ...]
    # bit i is set when the cell of field i was stored by Excel as a number or a date
    numeric: int = 0


@dataclass
class Table:
    fields: list[str]
    headers: dict[str, str]
    rows: list[Row]
    header_row: int
    warnings: list[str] = field(default_factory=list)
    format: str = "csv"
    sheet_name: str | None = None
    encoding: str | None = None

    def __post_init__(self) -> None:
        self._index = {name: i for i, name in enumerate(self.fields)}

    def has(self, name: str) -> bool:
        return name in self._index

    def index(self, name: str) -> int | None:
        return self._index.get(name)

    def label(self, name: str) -> str:
        """The column's header as the file spells it, for error messages."""
        return self.headers.get(name, name)

    def value(self, row: Row, name: str) -> str:
        i = self._index.get(name)
        return row.values[i] if i is not None else ""

    def is_numeric(self, row: Row, name: str) -> bool:
        i = self._index.get(name)
        return i is not None and bool(row.numeric >> i & 1)

    def control_problems(self, *, hidden: Iterable[str] = ("id_number", "phone")) -> dict[int, list[Problem]]:
        """The cells holding a C0 or C1 control character (a tab or a line break inside a cell
        counts), by row number: one problem per cell, naming its row and column. Each import
        treats such a row as invalid, by its own rules for bad cells. The usual file has none
        and is answered by one search over all its text. ``hidden`` cells (ID numbers,
        phones) are not echoed back."""
        rows = self.rows
        if not CONTROL_CHARS.search("".join(["".join(row.values) for row in rows])):
            return {}
        found: dict[int, list[Problem]] = {}
        hide = set(hidden)
        for row in rows:
            if not CONTROL_CHARS.search("".join(row.values)):
                continue
            for name, value in zip(self.fields, row.values, strict=True):
                if char := CONTROL_CHARS.search(value):
                    shown = "" if name in hide else CONTROL_CHARS.sub("�", value)[:40]
                    found.setdefault(row.number, []).append(Problem(
                        row.number, self.label(name), shown,
                        control_message(char.group(), row=row.number, column=self.label(name)),
                    ))
        return found


@dataclass(frozen=True)
class FileInfo:
    name: str
    size: int


def read_table(source: bytes | BinaryIO | Path | str, *, filename: str, schema: Schema) -> Table:
    """Read ``source`` and map its header row onto ``schema``. Raises SheetError with a
    one-line Chinese reason when the file as a whole is unusable."""
    data = _read_bytes(source)
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise SheetError("文件为空。")
    kind = sniff_format(data, filename)
    if kind == "xlsx":
        table = _read_xlsx(data, schema)
    else:
        table = _read_csv(data, schema)
    if not table.rows:
        raise SheetError("文件没有数据行：表头之下是空的。")
    return table


def _read_bytes(source: bytes | BinaryIO | Path | str) -> bytes:
    limit = settings.SHEETS_MAX_BYTES
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if path.stat().st_size > limit:
            raise SheetError(_too_big_message(limit))
        data = path.read_bytes()
    else:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise SheetError(_too_big_message(limit))
    return data


def _too_big_message(limit: int) -> str:
    return f"文件超过大小上限（{limit // (1024 * 1024)} MB）。"


def sniff_format(data: bytes, filename: str) -> str:
    """Decide between XLSX and CSV by content; the name only sharpens the error message."""
    suffix = Path(filename or "").suffix.lower()
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise SheetError("这是旧版 Excel（.xls）或加密的 Excel 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再上传。")
    if suffix in {".xlsx", ".xlsm"}:
        raise SheetError(f"文件名为 {suffix}，但内容不是有效的 Excel（XLSX）文件。")
    if _looks_binary(data):
        raise SheetError("无法识别的文件格式：只接受 CSV 或 XLSX 文件。")
    return "csv"


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0D))
    # a stray control character in a small text file is a bad cell (reported with its row and
    # column), not a binary file
    return controls > max(16, len(head) * 0.01)


# --- CSV --------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """Detect the encoding by content: a BOM, then strict UTF-8, then GB18030 (a superset of
    GBK and GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            encoding = "gb18030"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        raise SheetError("无法识别文件编码：CSV 应为 UTF-8 或 GBK/GB18030 编码。") from exc


def _detect_delimiter(text: str) -> str:
    sample_lines = [line for line in text[:20000].splitlines() if line.strip()][:HEADER_SCAN_ROWS]
    best, best_score = ",", 0
    for delimiter in (",", "\t", ";", "|"):
        score = max((line.count(delimiter) for line in sample_lines), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_csv(data: bytes, schema: Schema) -> Table:
    text, encoding = decode_text(data)
    if "\x00" in text[:8192]:
        raise SheetError("无法识别的文件格式：只接受 CSV 或 XLSX 文件。")
    text = _to_half_width(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_detect_delimiter(text))
    try:
        table = _build_table(enumerate(reader, start=1), schema)
    except csv.Error as exc:
        raise SheetError(f"CSV 格式错误：{exc}") from exc
    table.format = "csv"
    table.encoding = encoding
    return table


# --- XLSX -------------------------------------------------------------------------------


def _count_row_tags(xml: bytes) -> int:
    """Row elements in a piece of sheet XML: ``<row ...>``, ``<row>``, ``<row/>``, and
    ``<x:row ...>`` with a namespace prefix. Two byte counts (fast: 4 ms a MB); the one
    ``<rowBreaks>`` a sheet may hold counts too, well within the allowance for title rows."""
    return xml.count(b"<row") + xml.count(b":row ")


def check_xlsx_container(data: bytes) -> None:
    """Refuse zip bombs and XML entity tricks before any XML parser sees the file.

    The declared sizes are checked first, then every member is inflated in chunks and
    counted, because a forged header can lie about the size."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise SheetError("文件已损坏：不是有效的 Excel（XLSX）文件。") from exc
    limit = settings.SHEETS_MAX_UNCOMPRESSED_BYTES
    ratio_limit = settings.SHEETS_MAX_COMPRESSION_RATIO
    with archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
            raise SheetError("文件不是有效的 Excel（XLSX）文件。")
        declared = sum(info.file_size for info in infos)
        if declared > limit:
            raise SheetError(f"Excel 文件解压后过大（声明 {declared // (1024 * 1024)} MB，上限 {limit // (1024 * 1024)} MB），"
                             "已拒绝：疑似压缩炸弹。")
        for info in infos:
            if info.file_size > 1024 * 1024 and info.file_size > ratio_limit * max(info.compress_size, 1):
                raise SheetError("Excel 文件压缩比异常，已拒绝：疑似压缩炸弹。")
        total = 0
        max_rows = settings.SHEETS_MAX_ROWS
        for info in infos:
            if not info.filename.endswith((".xml", ".rels")):
                continue
            # a sheet's rows are counted as its XML streams by, so a sheet with too many is
            # refused before anything loads it whole
            is_sheet = info.filename.startswith("xl/worksheets/")
            rows = 0
            tail = b""
            try:
                with archive.open(info) as member:
                    while chunk := member.read(1 << 20):
                        total += len(chunk)
                        if total > limit:
                            raise SheetError(
                                f"Excel 文件解压后超过上限（{limit // (1024 * 1024)} MB），已拒绝：疑似压缩炸弹。")
                        window = tail + chunk
                        if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                            raise SheetError("Excel 文件含有 XML 实体声明，已拒绝。")
                        if is_sheet:
                            # a tag split between two chunks is counted once: the last bytes of
                            # the previous chunk are too short to hold a whole one
                            joined = tail[-5:] + chunk
                            rows += _count_row_tags(joined) - _count_row_tags(tail[-5:])
                            if rows > max_rows + HEADER_SCAN_ROWS:  # the header and title rows too
                                raise SheetError(f"文件超过行数上限（{max_rows} 行），已在读取时拒绝。")
                        tail = chunk[-16:]
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                raise SheetError("文件已损坏：Excel 内部数据无法解压。") from exc
            except NotImplementedError as exc:
                raise SheetError("Excel 文件使用了不支持的压缩方式。") from exc


def _excel_cell(value: object) -> tuple[str, bool]:
    if isinstance(value, str):
        return _to_half_width(value).strip(), False
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value)), True
        return repr(value), True
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S"), True
    if isinstance(value, dt.date):
        return value.isoformat(), True
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S"), True
    if value is None:
        return "", False
    return str(value).strip(), False


def _read_xlsx(data: bytes, schema: Schema) -> Table:
    import python_calamine

    check_xlsx_container(data)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several of its own types for broken files
        raise SheetError("文件已损坏：无法读取 Excel 内容。") from exc
    best_error: SheetError | None = None
    skipped: list[str] = []
    chosen: Table | None = None
    for sheet_name in workbook.sheet_names:
        try:
            sheet = workbook.get_sheet_by_name(sheet_name)
            raw_rows = sheet.iter_rows()
        except Exception as exc:
            raise SheetError(f"无法读取工作表“{sheet_name}”。") from exc
        if chosen is not None:
            skipped.append(sheet_name)
            continue
        try:
            chosen = _build_table(
                enumerate(raw_rows, start=1),
                schema,
                sheet_name=sheet_name,
            )
        except SheetError as exc:
            if exc.code == "no_header" or exc.code == "missing_columns":
                if best_error is None or (best_error.code == "no_header" and exc.code == "missing_columns"):
                    best_error = exc
                skipped.append(sheet_name)
                continue
            raise
    if chosen is None:
        raise best_error or SheetError("Excel 文件中没有工作表。")
    chosen.format = "xlsx"
    others = [name for name in skipped if name != chosen.sheet_name]
    if others:
        chosen.warnings.append(
            f"已读取工作表“{chosen.sheet_name}”；其他工作表未读取：{'、'.join(others)}。"
        )
    return chosen


# --- header detection and row building --------------------------------------------------


def _find_header(candidates: Sequence[tuple[int, list]], schema: Schema) -> tuple[int, dict[int, Column], list[str]]:
    """Pick the first row that names every required column; failing that, the row naming the
    most columns, so the error can say which ones are missing."""
    best: tuple[int, int, dict[int, Column]] | None = None
    for position, (_, cells) in enumerate(candidates):
        mapping = schema.map_header([str(c) if c is not None else "" for c in cells])
        if not mapping:
            continue
        found = {column.field for column in mapping.values()}
        if all(column.field in found for column in schema.required()):
            return position, mapping, []
        if best is None or len(mapping) > best[1]:
            best = (position, len(mapping), mapping)
    if best is None or best[1] < 2:
        raise _header_error(schema)
    position, _, mapping = best
    found = {column.field for column in mapping.values()}
    missing = [column for column in schema.required() if column.field not in found]
    row_number = candidates[position][0]
    labels = "、".join(column.label for column in missing)
    error = SheetError(
        f"第 {row_number} 行的表头缺少必需的列：{labels}。",
        problems=[
            Problem(row=None, column=column.label, value=None, message=f"缺少必需的列“{column.label}”（可用列名：{'、'.join(column.aliases)}）。")
            for column in missing
        ],
    )
    error.code = "missing_columns"
    raise error


def _header_error(schema: Schema) -> SheetError:
    labels = "、".join(column.label for column in schema.required())
    error = SheetError(f"未找到表头行：前 {HEADER_SCAN_ROWS} 行中没有包含 {labels} 等列名的行。")
    error.code = "no_header"
    return error


def _build_table(numbered_rows: Iterator[tuple[int, list]], schema: Schema, *, sheet_name: str | None = None) -> Table:
    is_excel = sheet_name is not None
    head: list[tuple[int, list]] = []
    for number, cells in numbered_rows:
        if any((c if isinstance(c, str) else str(c)).strip() for c in cells if c is not None):
            head.append((number, cells))
        if len(head) >= HEADER_SCAN_ROWS:
            break
    if not head:
        raise _header_error(schema)
    position, mapping, _ = _find_header(head, schema)
    header_number, header_cells = head[position]
    warnings: list[str] = []

    fields: list[str] = []
    headers: dict[str, str] = {}
    source_indexes: list[int] = []
    for index in sorted(mapping):
        column = mapping[index]
        label = str(header_cells[index]).strip()
        if column.field in headers:
            warnings.append(f"列“{label}”与列“{headers[column.field]}”含义相同，已忽略。")
            continue
        fields.append(column.field)
        headers[column.field] = label
        source_indexes.append(index)
    for index, cell in enumerate(header_cells):
        label = str(cell).strip() if cell is not None else ""
        if index not in mapping and label and normalise_header(label) not in schema.ignored_normalised():
            warnings.append(f"未识别的列“{label}”已忽略。")

    max_rows = settings.SHEETS_MAX_ROWS
    rows: list[Row] = []
    pending = [(n, c) for n, c in head[position + 1 :]]
    needed = max(source_indexes) + 1
    pick = operator.itemgetter(*source_indexes) if len(source_indexes) > 1 else (lambda cells: (cells[source_indexes[0]],))

    def consume(items: Iterable[tuple[int, list]]) -> None:
        if not is_excel:
            consume_text(items)
            return
        append, strip, only_text = rows.append, str.strip, {str}
        for number, cells in items:
            n_cells = len(cells)
            picked = pick(cells) if n_cells >= needed else [cells[i] if i < n_cells else None for i in source_indexes]
            numeric = 0
            if set(map(type, picked)) != only_text:
                # numbers, dates, empty cells: each such cell is converted (and marked) on its own;
                # text cells are left for the row-wide pass below
                texts = []
                for bit, value in enumerate(picked):
                    if type(value) is str:
                        texts.append(value)
                        continue
                    text, is_number = _excel_cell(value)
                    texts.append(text)
                    if is_number:
                        numeric |= 1 << bit
                picked = texts
            # text is made half-width and stripped as a row, not cell by cell
            if _NEEDS_TRANSLATION.search("\x00".join(picked)):
                picked = [value.translate(_FULLWIDTH) for value in picked]
            values_t = tuple(map(strip, picked))
            if any(values_t):
                append(Row(number, values_t, numeric))
                if len(rows) > max_rows:
                    raise SheetError(f"文件超过行数上限（{max_rows} 行）。")

    def consume_text(items: Iterable[tuple[int, list]]) -> None:
        # the CSV path of ``consume``, kept tight: it runs once per line of a 200,000-line roster
        append, strip, too_many = rows.append, str.strip, max_rows + 1
        for number, cells in items:
            if len(cells) < needed:
                cells = [*cells, *([""] * (needed - len(cells)))]
            values = tuple(map(strip, pick(cells)))
            if any(values):
                append(Row(number, values, 0))
                if len(rows) == too_many:
                    raise SheetError(f"文件超过行数上限（{max_rows} 行）。")

    consume(pending)
    consume(numbered_rows)
    return Table(fields=fields, headers=headers, rows=rows, header_row=header_number, warnings=warnings, sheet_name=sheet_name)
