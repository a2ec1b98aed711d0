"""A dry run's changes as an Excel file, for HR to check (and forward) before confirming."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sheets.writers import xlsx_bytes

from .models import SyncPreviewChange
from .staff import STAFF_LABELS

CHANGE_HEADERS = ("行号", "类型", "工号", "姓名", "单位代码", "单位", "字段", "原值", "新值")


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
    # 工号 and 单位代码 are text cells (leading zeros); names like "=HYPERLINK(...)" stay text
    return xlsx_bytes(title="全部变化", caption=title, headers=CHANGE_HEADERS, rows=preview_changes_rows(changes),
                      text_columns=(2, 4))
