"""Writes of the records app: the files of learning records. Each is a personal-data export,
written to the audit trail with its row count in the same call that makes the file."""

from __future__ import annotations

from typing import IO, Any

from audit.models import AuditAction
from audit.services import audit_record
from config.errors import DomainError
from roster.models import Unit

from .render import learning_file_docx, learning_file_xlsx, record_docx, record_xlsx
from .selectors import learning_file_entries, learning_file_exams, learning_file_people, record_rows

RECORD_FORMATS = ("json", "docx", "xlsx")
FILE_FORMATS = ("xlsx", "docx")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def format_check(value: Any, *, allowed: tuple[str, ...]) -> str:
    fmt = str(value or "").strip().lower()
    if fmt not in allowed:
        raise DomainError(f"格式“{value}”无效，应为 {' / '.join(allowed)} 之一。")
    return fmt


def record_file_name(*, record: dict[str, Any], year: int | None, format: str) -> str:
    return f"学法档案-{record['staff_no']}" + (f"-{year}" if year else "") + f".{format}"


def learning_file_name(*, unit: Unit, year: int, format: str) -> str:
    return f"年度学法档案-{year}-{unit.code}.{format}"


def staff_record_export(
    *, record: dict[str, Any], year: int | None, format: str, reason: str, user: Any = None, username: str = "",
    address: str | None = None,
) -> bytes:
    """A person's record (``records.selectors.staff_record``) as docx, xlsx or json bytes,
    audited with its rows (years, attendances, exams)."""
    fmt = format_check(format, allowed=RECORD_FORMATS)
    if fmt == "json":
        import json

        data = (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    else:
        data = record_docx(record) if fmt == "docx" else record_xlsx(record)
    audit_record(
        user=user, username=username, action=AuditAction.EXPORT,
        target=f"staff:{record['staff_no']}:record" + (f":{year}" if year else ""),
        reason=reason, rows=record_rows(record), address=address,
    )
    return data


def learning_file_export(
    *, unit: Unit, year: int, format: str, out: IO[bytes], reason: str, user: Any = None, username: str = "",
    address: str | None = None,
) -> int:
    """A unit's learning file for the year, written to ``out`` (xlsx or docx) a chunk of people
    at a time, then audited with the number of people it lists. Returns that number."""
    fmt = format_check(format, allowed=FILE_FORMATS)
    exams = learning_file_exams(year=year)
    entries = learning_file_entries(year=year, people=learning_file_people(year=year, unit=unit))
    if fmt == "xlsx":
        people = learning_file_xlsx(out=out, exams=exams, entries=entries)
    else:
        people = learning_file_docx(out=out, unit_name=unit.name, year=year, entries=entries)
    audit_record(
        user=user, username=username, action=AuditAction.EXPORT, target=f"unit:{unit.code}:learning_file:{year}",
        reason=reason, rows=people, address=address,
    )
    return people
