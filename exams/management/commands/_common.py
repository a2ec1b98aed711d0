"""Shared bits of the exam commands."""

from __future__ import annotations

import datetime as dt

from config.errors import DomainError


def parse_date(text: str | None, label: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise DomainError(f"{label}应为 YYYY-MM-DD 格式的日期，而不是“{text}”。")
