"""The one domain error type, and the row-level problem every import reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Problem kinds shared by every import. Roster sync only uses ``invalid``.
INVALID = "invalid"
UNMATCHED = "unmatched"
CONFLICT = "conflict"
AMBIGUOUS = "ambiguous"
DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input file. ``row`` is the row a person sees in Excel, or None
    when the problem concerns the whole file."""

    row: int | None
    column: str | None
    value: str | None
    message: str
    kind: str = INVALID

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DomainError(Exception):
    """Raised by services when a request cannot be carried out. The message is in Chinese and
    safe to show; ``problems`` carries the row-level details."""

    message: str
    problems: list[Problem] = field(default_factory=list)
    code: str = "invalid"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message=message, code="not_found")


class Busy(DomainError):
    """A shared lock could not be had within its bounded wait. The web answers 503 with
    ``Retry-After``; a job tries again later."""

    retry_after = 5

    def __init__(self, message: str) -> None:
        super().__init__(message=message, code="unavailable")
