"""The hours-below list as rows, and as CSV, XLSX, JSON or a plain table."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from roster.models import Staff
from sheets import writers

HEADERS = ("工号", "姓名", "单位代码", "单位", "学时", "应修学时", "差额")
KEYS = ("staff_no", "name", "unit_code", "unit_name", "hours", "required_hours", "missing_hours")


def as_number(value: Decimal | int | float | None) -> int | float:
    """A Decimal for JSON: an integer when whole, else a float (hours have two decimals)."""
    if value is None:
        return 0
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def hours_rows(staff: QuerySet[Staff], *, required: Decimal | None = None) -> list[dict[str, Any]]:
    """Rows of the ``hours_below`` queryset, read as plain values (no model instances). Each
    row's ``required_hours`` is the person's own (their category's target, else the default),
    as ``hours_below`` annotates it; ``required`` is accepted for older callers and ignored."""
    values = staff.values_list("staff_no", "name", "unit__code", "unit__name", "hours", "required_hours")
    return [hours_row(*row) for row in values]


def hours_row(staff_no: str, name: str, unit_code: str, unit_name: str, hours: Decimal,
              required: Decimal) -> dict[str, Any]:
    return {
        "staff_no": staff_no,
        "name": name,
        "unit_code": unit_code,
        "unit_name": unit_name,
        "hours": as_number(hours),
        "required_hours": as_number(required),
        "missing_hours": as_number(required - hours),
    }


def to_json(rows: list[dict[str, Any]], *, year: int, required: Decimal, unit_code: str | None) -> str:
    payload = {
        "year": year,
        "unit": unit_code,
        "required_hours": as_number(required),
        "count": len(rows),
        "staff": rows,
    }
    return json.dumps(payload, ensure_ascii=False)


def to_csv(rows: list[dict[str, Any]]) -> str:
    return writers.csv_text(HEADERS, ([row[k] for k in KEYS] for row in rows))


def to_xlsx(rows: list[dict[str, Any]], *, title: str) -> bytes:
    # 工号 stays text: leading zeros must survive
    return writers.xlsx_bytes(
        title="学时不足人员", headers=HEADERS, rows=([row[k] for k in KEYS] for row in rows), caption=title,
        text_columns=(0,), widths=(10, 10, 10, 28, 8, 10, 8),
    )


def to_table(rows: list[dict[str, Any]]) -> str:
    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    cells = [list(HEADERS)] + [[str(row[k]) for k in KEYS] for row in rows]
    widths = [max(width(line[i]) for line in cells) for i in range(len(HEADERS))]
    lines = ["  ".join(text + " " * (widths[i] - width(text)) for i, text in enumerate(line)).rstrip() for line in cells]
    return "\n".join(lines)
