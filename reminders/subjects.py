"""What the digests of every subject share: resolving ``--unit``."""

from __future__ import annotations

from config.errors import NotFound
from roster.models import Unit
from roster.selectors import unit_by_code


def unit_within(code: str | None) -> Unit | None:
    """The unit whose subtree ``--unit`` keeps to (None: everywhere)."""
    if code is None:
        return None
    code = code.strip()
    unit = unit_by_code(code) or unit_by_code(code.upper())
    if unit is None:
        raise NotFound(f"单位代码不存在：{code}")
    return unit
