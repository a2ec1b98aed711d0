"""What every file import answers, whatever it imports: the record's id and state, its rows,
problems and warnings. Each import adds its own counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config.jobs import JobStatus

from .models import ImportRecord


@dataclass
class ImportOutcome:
    import_id: int
    status: str
    rows: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    message: str = ""

    @staticmethod
    def record_fields(record: ImportRecord, count_keys: tuple[str, ...]) -> dict[str, Any]:
        """The constructor's keywords read from a record: its state, problems and the counts it kept."""
        counts = record.counts or {}
        return {
            "import_id": record.pk,
            "status": record.status,
            "rows": record.rows,
            "errors": list(record.problems or []),
            "warnings": list(record.warnings or []),
            "message": record.message,
            **{key: int(counts.get(key, 0)) for key in count_keys},
        }

    @property
    def ran(self) -> bool:
        return self.status == JobStatus.SUCCEEDED

    @property
    def unreadable(self) -> bool:
        """Refused before any row was read: the file itself is the problem."""
        return self.status == JobStatus.REFUSED and self.rows == 0
