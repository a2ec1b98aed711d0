"""A dry run's changes as an Excel file, for HR to check (and forward) before confirming."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from .models import SyncPreviewChange
from .staff import STAFF_LABELS

CHANGE_HEADERS = ("行号", "类型", "工号", "姓名", "单位代码", "单位", "字段", "原值", "新值")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def preview_changes_rows(changes: Iterable[SyncPreviewChange]) -> Iterable[list[Any]]:
    """One line per changed field (one line for a person who is only created or deactivated)."""
    for change in changes:
        person = [change.row_no, change.get_kind_display(), change.staff_no, change.name,
                  change.unit.code if change.unit else "", change.unit.name if change.unit else ""]
        if not change.fields:
            yield [*person, "", "", ""]
        for field, (old, new) in change.fields.items():
            yield [*person, STAFF_LABELS.get(field, field), old, new]


def preview_changes_xlsx(changes: Iterable[SyncPreviewChange], *, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("全部变化")
    heading = WriteOnlyCell(sheet, value=title)
    heading.font = Font(bold=True, size=13)
    sheet.append([heading])
    sheet.append(list(CHANGE_HEADERS))
    for values in preview_changes_rows(changes):
        cells = []
        for i, value in enumerate(values):
            cell = WriteOnlyCell(sheet, value=value if value is not None else "")
            if isinstance(value, str) and (i in (2, 4) or value.startswith(FORMULA_STARTS)):
                # 工号 keeps its leading zeros, and a name like "=HYPERLINK(...)" stays text
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
