"""The import of the certificate register: the same reader and matcher as the results import
(工号 or ID number, the name cross-checked), idempotent by certificate number. A changed date,
kind, status or authority is an update, written with its history."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from config.errors import CONFLICT, INVALID, UNMATCHED, DomainError, Problem
from config.jobs import JobStatus, job_claim
from exams.import_steps import MATCH_KEYS, import_applying, import_read_table, subtable
from roster.matching import match_rows
from roster.models import Unit
from sheets.models import ImportKind, ImportRecord
from sheets.outcome import ImportOutcome
from sheets.reader import Row, SheetError
from sheets.services import (
    import_record_create,
    import_record_discard_file,
    import_record_finish,
    import_record_take_file,
)

from .bulk import certificates_insert, certificates_update, changes_insert
from .columns import CERTIFICATE_SCHEMA, MAX_AUTHORITY, MAX_NUMBER, CellError, parse_day, parse_kind, parse_status
from .models import Certificate, CertificateChangeKind, CertificateStatus

logger = logging.getLogger(__name__)

CERT_LOCK_ID = 7_340_016
IN_CHUNK = 2_000
# the fields an import may change, in the order the history lists them
TRACKED = ("kind", "issued_on", "expires_on", "status", "authority")
COUNT_KEYS = ("created", "updated", "unchanged", "unmatched", "conflicts", "invalid")


@dataclass
class CertificateImportResult(ImportOutcome):
    dry_run: bool = False
    applied: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unmatched: int = 0
    conflicts: int = 0
    invalid: int = 0

    @classmethod
    def of(cls, record: ImportRecord) -> CertificateImportResult:
        return cls(
            dry_run=bool((record.options or {}).get("dry_run")), applied=record.applied,
            **cls.record_fields(record, COUNT_KEYS),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id, "status": self.status, "dry_run": self.dry_run, "rows": self.rows,
            "applied": self.applied, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "unmatched": self.unmatched, "conflicts": self.conflicts, "invalid": self.invalid,
            "errors": self.errors, "warnings": self.warnings, "message": self.message,
        }


@dataclass(slots=True)
class _Parsed:
    row: Row
    number: str
    kind: str
    issued_on: dt.date
    expires_on: dt.date
    status: str | None
    authority: str | None


def certificate_import_create(
    *, file: bytes | BinaryIO, file_name: str, strict: bool = False, dry_run: bool = False,
    started_by: Any = None, source: str = "", root: Any = None,
) -> ImportRecord:
    """``root``: a scoped legal-affairs office's unit (``Scope.write_root``): a row naming
    someone outside its subtree is a problem row."""
    options: dict[str, Any] = {"strict": strict}
    if root is not None:
        options["root"] = root.pk
    if dry_run:
        options["dry_run"] = True
    if source:
        options["source"] = source
    return import_record_create(
        kind=ImportKind.CERTIFICATES, file=file, file_name=file_name, options=options, started_by=started_by
    )


def certificate_import_file(*, path: str | Path, strict: bool = False, dry_run: bool = False) -> CertificateImportResult:
    """Import a register file on disk now, in this process (the command line)."""
    path = Path(path)
    if not path.is_file():
        raise DomainError(f"文件不存在：{path}")
    if path.stat().st_size > settings.SHEETS_MAX_BYTES:
        raise DomainError(f"文件超过大小上限（{settings.SHEETS_MAX_BYTES // (1024 * 1024)} MB）。")
    record = certificate_import_create(file=path.read_bytes(), file_name=path.name, strict=strict, dry_run=dry_run)
    return certificate_import_run(record=record)


def certificate_import_confirm(*, dry_run_record: ImportRecord, started_by: Any = None) -> CertificateImportResult:
    """Apply what a web dry run checked: the very same file with the same options, once."""
    if dry_run_record.kind != ImportKind.CERTIFICATES:
        raise DomainError("这不是执法证登记的导入。")
    with transaction.atomic():
        data = import_record_take_file(record=dry_run_record)
        record = certificate_import_create(
            file=data, file_name=dry_run_record.file_name, strict=bool(dry_run_record.options.get("strict")),
            started_by=started_by, source=str(dry_run_record.options.get("source") or ""),
            root=_root_of(dry_run_record),
        )
    return certificate_import_run(record=record)


def _root_of(record: ImportRecord) -> Unit | None:
    """The scoped office's unit an import was started under, if any."""
    pk = (record.options or {}).get("root")
    return Unit.objects.filter(pk=pk).first() if pk else None


def certificate_import_run(*, record: ImportRecord) -> CertificateImportResult:
    """Claim the record, read, match and apply in one transaction. A finished record is
    returned as it is."""
    if not job_claim(model=ImportRecord, pk=record.pk):
        record.refresh_from_db()
        return CertificateImportResult.of(record)
    record.refresh_from_db()
    try:
        _apply(record)
    except Exception:
        logger.exception("certificate import %s failed", record.pk)
        ImportRecord.objects.filter(pk=record.pk).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), applied=False,
            message="导入失败：发生内部错误，未作任何改动。",
        )
        record.refresh_from_db()
    import_record_discard_file(record=record)
    return CertificateImportResult.of(record)


def _counts(rows: int, created: int, updated: int, unchanged: int, problems: list[Problem]) -> dict[str, int]:
    def rows_of(kind: str) -> int:
        return len({p.row for p in problems if p.kind == kind and p.row is not None})

    return {
        "rows": rows, "created": created, "updated": updated, "unchanged": unchanged,
        "unmatched": rows_of(UNMATCHED), "conflicts": rows_of(CONFLICT), "invalid": rows_of(INVALID),
    }


def _parse_rows(table: Any, problems: list[Problem]) -> list[_Parsed]:
    idx = {name: table.index(name) for name in ("name", "number", "kind", "issued_on", "expires_on", "status", "authority")}
    label = table.label
    parsed: list[_Parsed] = []
    for row in table.rows:
        values = row.values

        def cell(name: str, values: tuple[str, ...] = values) -> str:
            i = idx[name]
            return values[i] if i is not None else ""

        def numeric(name: str, row: Row = row) -> bool:
            i = idx[name]
            return i is not None and bool(row.numeric >> i & 1)

        bad: list[Problem] = []
        if not cell("name"):
            bad.append(Problem(row.number, label("name"), "", "姓名为空。", INVALID))
        number = "".join(cell("number").split()).upper()
        if not number:
            bad.append(Problem(row.number, label("number"), "", "证件号为空。", INVALID))
        elif len(number) > MAX_NUMBER:
            bad.append(Problem(row.number, label("number"), number[:MAX_NUMBER], f"证件号过长（最多 {MAX_NUMBER} 个字符）。", INVALID))
        results: dict[str, Any] = {}
        for name, parse in (
            ("kind", lambda text, _n: parse_kind(text)),
            ("issued_on", lambda text, n: parse_day(text, label="发证日期", numeric=n)),
            ("expires_on", lambda text, n: parse_day(text, label="有效期至", numeric=n)),
            ("status", lambda text, _n: parse_status(text)),
        ):
            try:
                results[name] = parse(cell(name), numeric(name))
            except CellError as exc:
                bad.append(Problem(row.number, label(name), cell(name), str(exc), INVALID))
        if "issued_on" in results and "expires_on" in results and results["expires_on"] < results["issued_on"]:
            bad.append(Problem(row.number, label("expires_on"), cell("expires_on"), "有效期至早于发证日期。", INVALID))
        authority = cell("authority")
        if len(authority) > MAX_AUTHORITY:
            bad.append(Problem(row.number, label("authority"), authority[:40], f"发证机关过长（最多 {MAX_AUTHORITY} 个字符）。", INVALID))
        if bad:
            problems.extend(bad)
            continue
        parsed.append(_Parsed(
            row, number, results["kind"], results["issued_on"], results["expires_on"], results["status"],
            authority if idx["authority"] is not None and authority else None,
        ))
    # a number twice in the file: none of its rows is taken (which one is right?)
    rows_of: dict[str, list[int]] = {}
    for p in parsed:
        rows_of.setdefault(p.number, []).append(p.row.number)
    repeated = {number: rows for number, rows in rows_of.items() if len(rows) > 1}
    if repeated:
        for p in parsed:
            if p.number in repeated:
                others = "、".join(str(n) for n in repeated[p.number] if n != p.row.number)
                problems.append(Problem(
                    p.row.number, label("number"), p.number, f"证件号在文件中重复出现（另见第 {others} 行），未导入。", INVALID,
                ))
        parsed = [p for p in parsed if p.number not in repeated]
    return parsed


def _existing(numbers: list[str]) -> dict[str, tuple]:
    found: dict[str, tuple] = {}
    fields = ("number", "pk", "staff_id", "staff__staff_no", *TRACKED)
    for start in range(0, len(numbers), IN_CHUNK):
        for number, *rest in (
            Certificate.objects.filter(number__in=numbers[start : start + IN_CHUNK]).order_by().values_list(*fields)
        ):
            found[number] = tuple(rest)
    return found


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CERT_LOCK_ID])


def _apply(record: ImportRecord) -> None:
    problems: list[Problem] = []
    try:
        table = import_read_table(record, CERTIFICATE_SCHEMA)
    except SheetError as exc:
        import_record_finish(record=record, status=JobStatus.REFUSED, applied=False, counts=_counts(0, 0, 0, 0, []),
                             problems=exc.problems, message=exc.message)
        return
    total = len(table.rows)
    record.rows = total
    parsed = _parse_rows(table, problems)
    by_row = {p.row.number: p for p in parsed}
    root = _root_of(record)
    matched = match_rows(subtable(table, [p.row for p in parsed]), keys=MATCH_KEYS, within=root) if parsed else None
    strict = bool(record.options.get("strict"))
    now = timezone.now()
    with import_applying(record):
        _lock()
        if matched is not None:
            problems.extend(matched.problems)
        resolved = [(by_row[m.row.number], m.staff) for m in (matched.matched if matched else [])]
        existing = _existing(sorted({p.number for p, _ in resolved}))
        creates: list[tuple] = []  # bulk.CERT_COLUMNS
        updates: list[tuple] = []  # (id, kind, issued_on, expires_on, status, authority)
        changes: list[tuple[int | str, str, str, str]] = []  # (pk or number, field, old, new)
        unchanged = 0
        for p, staff in resolved:
            current = existing.get(p.number)
            if current is None:
                creates.append((p.number, p.kind, staff.id, p.issued_on, p.expires_on, p.authority or "",
                                p.status or CertificateStatus.ACTIVE, now, now))
                continue
            pk, staff_id, holder_no, *old = current
            if staff_id != staff.id:
                problems.append(Problem(
                    p.row.number, table.label("number"), p.number,
                    f"证件号已登记在另一人（工号 {holder_no}）名下，未导入。", CONFLICT,
                ))
                continue
            wanted = dict(zip(TRACKED, old, strict=True))
            new = dict(wanted, kind=p.kind, issued_on=p.issued_on, expires_on=p.expires_on)
            if p.status is not None:
                new["status"] = p.status
            if p.authority is not None:
                new["authority"] = p.authority
            diff = [name for name in TRACKED if new[name] != wanted[name]]
            if not diff:
                unchanged += 1
                continue
            updates.append((pk, new["kind"], new["issued_on"], new["expires_on"], new["status"], new["authority"]))
            changes += [(pk, name, str(wanted[name]), str(new[name])) for name in diff]
        problems.sort(key=lambda pr: (pr.row or 0, pr.column or ""))
        good = len(creates) + len(updates) + unchanged
        if problems and (strict or not good):
            why = (f"导入被拒绝（严格模式）：{len({pr.row for pr in problems})} 行有问题，未导入任何证件。"
                   if strict else "导入被拒绝：没有可导入的行。")
            import_record_finish(record=record, status=JobStatus.REFUSED, applied=False,
                                 counts=_counts(total, 0, 0, 0, problems), problems=problems, message=why,
                                 warnings=table.warnings)
            return
        certificates_insert(rows=creates, record_id=record.pk, at=now)
        certificates_update(rows=updates, at=now)
        changes_insert(rows=[(pk, record.pk, CertificateChangeKind.UPDATED.value, name, old, new, now)
                             for pk, name, old, new in changes])
        counts = _counts(total, len(creates), len(updates), unchanged, problems)
        message = (
            f"执法证导入完成：共 {total} 行，新增 {counts['created']}，更新 {counts['updated']}，未变 {counts['unchanged']}，"
            f"名册中无此人 {counts['unmatched']}，冲突 {counts['conflicts']}，无效 {counts['invalid']}。"
        )
        import_record_finish(record=record, status=JobStatus.SUCCEEDED, applied=True, counts=counts,
                             problems=problems, message=message, warnings=table.warnings)
