"""Column schemas: each field with the header aliases a file may use for it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADER_NOISE = re.compile(r"[\s\*＊:：()（）\[\]【】<>《》]|必填|选填")
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}


def normalise_header(text: str) -> str:
    """Headers match regardless of case, width, spaces, a required-marker star and
    bracketed notes such as 身份证号（必填）."""
    return _HEADER_NOISE.sub("", str(text).translate(_FULLWIDTH)).lower()


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    aliases: tuple[str, ...]
    required: bool = False

    def names(self) -> set[str]:
        return {normalise_header(a) for a in (self.field, self.label, *self.aliases)}


@dataclass(frozen=True)
class Schema:
    columns: tuple[Column, ...]
    ignored: tuple[str, ...] = ("序号",)
    _lookup: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for column in self.columns:
            for name in column.names():
                self._lookup.setdefault(name, column)

    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)

    def ignored_normalised(self) -> set[str]:
        return {normalise_header(n) for n in self.ignored}

    def map_header(self, cells: list[str]) -> dict[int, Column]:
        """Map the positions of a candidate header row to columns."""
        mapping: dict[int, Column] = {}
        for index, cell in enumerate(cells):
            key = normalise_header(cell) if cell else ""
            if key and key in self._lookup:
                mapping[index] = self._lookup[key]
        return mapping
