"""Shared bits of the exam commands."""

from __future__ import annotations

import datetime as dt

from config.cli import EXIT_INTERNAL, EXIT_REFUSED, EXIT_UNREADABLE, DomainCommand
from config.errors import DomainError
from exams.imports import ExamImportResult
from roster.models import Unit


def parse_date(text: str | None, label: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise DomainError(f"{label}应为 YYYY-MM-DD 格式的日期，而不是“{text}”。")


def unit_by_code(code: str | None) -> Unit | None:
    if code is None:
        return None
    unit = Unit.objects.filter(code=code.strip()).first() or Unit.objects.filter(code=code.strip().upper()).first()
    if unit is None:
        raise DomainError(f"单位代码不存在：{code}")
    return unit


def report_import(command: DomainCommand, result: ExamImportResult, *, as_json: bool) -> None:
    """Print an import's outcome and leave with the contract's exit status."""
    if as_json:
        command.emit_json(result.as_dict())
    else:
        command.stdout.write(result.message)
        for warning in result.warnings:
            command.stdout.write(f"提示：{warning}")
        for error in result.errors:
            where = f"第 {error['row']} 行" if error.get("row") else "文件"
            column = f"「{error['column']}」" if error.get("column") else ""
            value = f"（{error['value']}）" if error.get("value") else ""
            command.stderr.write(f"{where}{column}{value}：{error['message']}")
        if result.ran:
            command.stdout.write(f"导入记录编号：{result.import_id}")
    if result.ran:
        return
    if result.status == "failed":
        raise SystemExit(EXIT_INTERNAL)
    raise SystemExit(EXIT_UNREADABLE if result.unreadable else EXIT_REFUSED)
