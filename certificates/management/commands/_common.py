"""Shared bits of the certificate commands."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from config.errors import DomainError


def parse_on(text: str | None) -> dt.date:
    """``--on``: a date (YYYY-MM-DD); today when not given."""
    if text is None:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise DomainError(f"--on 应为 YYYY-MM-DD 格式的日期，而不是“{text}”。")

