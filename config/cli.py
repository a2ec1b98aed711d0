"""The base for management commands: a domain error becomes one line in Chinese and a
non-zero exit, and nothing ever prints a traceback."""

from __future__ import annotations

import getpass
import json
import logging
import sys
import traceback
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from .errors import DomainError
from .redact import redact

logger = logging.getLogger(__name__)

EXIT_REFUSED = 1
EXIT_UNREADABLE = 2
EXIT_INTERNAL = 3
# What a shell reports for a program ended by SIGPIPE: the reader (`| head`) stopped reading.
EXIT_PIPE_CLOSED = 128 + 13


class ImportOutcome(Protocol):
    """What an import run answers, whatever it imported: the shape `report_import` prints."""

    import_id: int
    status: str
    message: str
    warnings: list[str]
    errors: list[dict[str, Any]]

    @property
    def ran(self) -> bool: ...

    @property
    def unreadable(self) -> bool: ...

    def as_dict(self) -> dict[str, Any]: ...


class DomainCommand(BaseCommand):
    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except DomainError as exc:
            if options.get("json"):
                self.stdout.write(json.dumps(
                    {"error": exc.message, "errors": [p.as_dict() for p in exc.problems]}, ensure_ascii=False
                ))
            self.stderr.write(f"错误：{exc.message}")
            sys.exit(EXIT_UNREADABLE if exc.code == "unreadable" else EXIT_REFUSED)
        except BrokenPipeError:
            if getattr(self.stdout, "_out", None) is sys.__stdout__:
                _quiet_closed_stdout()
            sys.exit(EXIT_PIPE_CLOSED)
        except (CommandError, SystemExit, KeyboardInterrupt):
            raise
        except Exception:
            where = _write_crash_report()
            message = "内部错误：命令未能完成，未作任何改动。"
            if options.get("json"):
                # a program reading standard output still gets one JSON object
                self.stdout.write(json.dumps({"error": message, "errors": []}, ensure_ascii=False))
            self.stderr.write(f"{message}详情已写入 {where}")
            sys.exit(EXIT_INTERNAL)

    def emit_json(self, payload: Any) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False, default=str))

    def report_import(self, result: ImportOutcome, *, as_json: bool) -> None:
        """Print an import's outcome and leave with the contract's exit status."""
        if as_json:
            self.emit_json(result.as_dict())
        else:
            self.stdout.write(result.message)
            for warning in result.warnings:
                self.stdout.write(f"提示：{warning}")
            for error in result.errors:
                where = f"第 {error['row']} 行" if error.get("row") else "文件"
                column = f"「{error['column']}」" if error.get("column") else ""
                value = f"（{error['value']}）" if error.get("value") else ""
                self.stderr.write(f"{where}{column}{value}：{error['message']}")
            if result.ran:
                self.stdout.write(f"导入记录编号：{result.import_id}")
        if result.ran:
            return
        if result.status == "failed":
            raise SystemExit(EXIT_INTERNAL)
        raise SystemExit(EXIT_UNREADABLE if result.unreadable else EXIT_REFUSED)


def command_username() -> str:
    """Who acted, for the audit trail, when a command writes a file of personal data: the
    system account that ran it ("命令行:name")."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        name = "?"
    return f"命令行:{name}"


def _quiet_closed_stdout() -> None:
    # The interpreter flushes stdout again at exit; pointing it at devnull keeps that flush from
    # printing a second BrokenPipeError after we have already stopped.
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _write_crash_report() -> Path:
    # The traceback goes to a file, not the terminal: a user sees one line, a developer the rest.
    folder = Path(settings.BASE_DIR) / "var" / "log"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "command-errors.log"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(redact(traceback.format_exc()))
        handle.write("\n")
    return path
