"""Backups with PostgreSQL's and SQLite's own tools, in one file that knows what it holds.

The file is a tar archive (gzip-compressed for SQLite) of two members:
- ``header.json``: the format, the engine, when, the schema version (the latest applied
  migration of each app) and the fingerprints of the field keys the data was written with
  (the key canaries: keyed MACs of a fixed string, never a key);
- the payload: ``database.dump`` (``pg_dump -Fc``) or ``database.sqlite3`` (SQLite's online
  backup API, a consistent copy taken while the system runs).

``restore`` reads the header first and refuses, in Chinese, a file taken with another key, a
schema newer than this code, another engine, or a target database that is not empty (unless
``yes``). PostgreSQL is restored with ``pg_restore`` into the emptied database; SQLite with the
backup API again."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection

from config.errors import DomainError

FORMAT = "legaltrack-backup"
FORMAT_VERSION = 1
HEADER = "header.json"
PG_PAYLOAD = "database.dump"
SQLITE_PAYLOAD = "database.sqlite3"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    header: dict


@dataclass(frozen=True)
class RestoreResult:
    header: dict
    tables: int


# --- the database in use -------------------------------------------------------------------


def engine() -> str:
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise DomainError(f"不支持的数据库类型：{vendor}。")
    return vendor


def applied_schema() -> dict[str, str]:
    """The latest applied migration of each app (names sort by their number prefix)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations")
            rows = cursor.fetchall()
    except DatabaseError:
        return {}
    latest: dict[str, str] = {}
    for app, name in rows:
        if app not in latest or name > latest[app]:
            latest[app] = name
    return dict(sorted(latest.items()))


def key_fingerprints() -> dict[str, list[str]]:
    """The canaries of the keys the stored data uses: the registered, not retired ones; before
    the canary existed (an older schema), those of the keys configured now."""
    from roster import idnumbers

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT purpose, canary FROM roster_fieldkeycanary WHERE NOT retired")
            rows = cursor.fetchall()
    except DatabaseError:
        rows = []
    if rows:
        found: dict[str, list[str]] = {"aes": [], "hmac": []}
        for purpose, canary in rows:
            found.setdefault(purpose, []).append(canary)
        return {purpose: sorted(values) for purpose, values in found.items()}
    return {
        "aes": sorted({idnumbers.key_canary(s, "aes") for s in idnumbers.encryption_secrets()}),
        "hmac": sorted({idnumbers.key_canary(s, "hmac") for s in idnumbers.hash_secrets()}),
    }


def table_names() -> list[str]:
    return [name for name in connection.introspection.table_names() if not name.startswith("sqlite_")]


# --- PostgreSQL tools ----------------------------------------------------------------------


def _pg_conninfo() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    args = ["-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432), "-U", db.get("USER") or "postgres"]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def pg_tool(name: str) -> str:
    """``pg_dump``/``pg_restore`` of the server's major version: from PG_BIN_DIR, the Debian
    folder of that version, or PATH; another major version is refused."""
    major = server_major()
    candidates = [Path(settings.PG_BIN_DIR) / name] if getattr(settings, "PG_BIN_DIR", "") else []
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin") / name)
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if not candidate.is_file():
            continue
        version = subprocess.run([str(candidate), "--version"], capture_output=True, text=True).stdout
        match = re.search(r"(\d+)(?:\.\d+)?", version)
        if match and int(match.group(1)) == major:
            return str(candidate)
    raise DomainError(f"找不到与数据库服务器（PostgreSQL {major}）版本相同的 {name}：请安装 postgresql-client-{major}，"
                      "或用 PG_BIN_DIR 指定其所在目录。")


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"退出码 {done.returncode}"
        raise DomainError(f"{what}失败：{detail}")


# --- backup --------------------------------------------------------------------------------


def backup(*, output: Path) -> BackupResult:
    kind = engine()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="legaltrack-backup-", dir=output.parent) as folder:
        payload_name = PG_PAYLOAD if kind == "postgresql" else SQLITE_PAYLOAD
        payload = Path(folder) / payload_name
        if kind == "postgresql":
            args, env = _pg_conninfo()
            _run([pg_tool("pg_dump"), *args, "-Fc", "--no-owner", "--no-privileges", "-f", str(payload),
                  connection.settings_dict["NAME"]], env, "pg_dump 备份")
        else:
            _sqlite_copy(source=Path(connection.settings_dict["NAME"]), target=payload)
        header = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "engine": kind,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "schema": applied_schema(),
            "key_fingerprints": key_fingerprints(),
            "payload": payload_name,
            "payload_sha256": _sha256(payload),
            "payload_bytes": payload.stat().st_size,
        }
        partial = Path(folder) / "backup.tar"
        # pg_dump -Fc compresses its own output; a SQLite file is compressed here
        with tarfile.open(partial, "w" if kind == "postgresql" else "w:gz") as archive:
            data = json.dumps(header, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(HEADER)
            info.size, info.mode = len(data), 0o600
            archive.addfile(info, io.BytesIO(data))
            archive.add(payload, arcname=payload_name)
        os.chmod(partial, 0o600)  # it holds the personal data (encrypted ID numbers, names, phones)
        os.replace(partial, output)  # whole or not at all
    return BackupResult(path=output, header=header)


def backup_prune(*, folder: Path, keep_days: float, keep_at_least: int = 1,
                 now: dt.datetime | None = None) -> list[Path]:
    """Delete the backups (``*.backup``) in ``folder`` older than ``keep_days``, always keeping
    the newest ``keep_at_least``. Returns what it deleted."""
    now = now or dt.datetime.now(dt.UTC)
    files = sorted(Path(folder).glob("*.backup"), key=lambda p: p.stat().st_mtime, reverse=True)
    cutoff = now.timestamp() - keep_days * 86400
    removed = [p for p in files[keep_at_least:] if p.stat().st_mtime < cutoff]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def _sqlite_copy(*, source: Path, target: Path) -> None:
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(str(target))
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- restore -------------------------------------------------------------------------------


def read_header(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise DomainError(f"找不到备份文件：{path}")
    try:
        with tarfile.open(path, "r") as archive:
            member = archive.getmember(HEADER)
            header = json.loads(archive.extractfile(member).read().decode())
    except (tarfile.TarError, KeyError, ValueError, AttributeError) as exc:
        raise DomainError(f"{path.name} 不是本系统的备份文件（无法读取文件头）。") from exc
    if header.get("format") != FORMAT:
        raise DomainError(f"{path.name} 不是本系统的备份文件。")
    if int(header.get("format_version", 0)) > FORMAT_VERSION:
        raise DomainError(f"{path.name} 的备份格式（第 {header['format_version']} 版）比本程序新，请用新版本恢复。")
    return header


def refusals(header: dict) -> list[str]:
    """Why this file must not be restored here, in Chinese; empty when it may."""
    from django.db.migrations.loader import MigrationLoader

    from roster import idnumbers

    problems: list[str] = []
    if header.get("engine") != engine():
        problems.append(f"备份来自 {header.get('engine')} 数据库，不能恢复到当前的 {engine()} 数据库。")
    fingerprints = header.get("key_fingerprints") or {}
    configured_aes = {idnumbers.key_canary(s, "aes") for s in idnumbers.encryption_secrets()}
    configured_hmac = {idnumbers.key_canary(s, "hmac") for s in idnumbers.hash_secrets()}
    if set(fingerprints.get("aes") or []) - configured_aes:
        setting = "FIELD_ENCRYPTION_KEYS" if len(configured_aes) > 1 else "FIELD_ENCRYPTION_KEY"
        problems.append(f"备份文件是用另一个加密密钥写入的：当前的 {setting} 解不开其中的身份证号。"
                        "请设置备份时使用的密钥后再恢复。")
    if set(fingerprints.get("hmac") or []) - configured_hmac:
        problems.append("备份文件是用另一个散列密钥写入的（FIELD_HASH_KEYS）：请设置备份时使用的密钥后再恢复。")
    disk = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    newer = sorted(f"{app}.{name}" for app, name in (header.get("schema") or {}).items() if (app, name) not in disk)
    if newer:
        problems.append(f"备份的数据库结构比本程序新（{newer[0]} 等 {len(newer)} 项迁移本程序没有）："
                        "请用备份时的或更新的版本恢复。")
    return problems


def restore(*, path: Path, yes: bool) -> RestoreResult:
    path = Path(path)
    header = read_header(path)
    problems = refusals(header)
    if problems:
        raise DomainError(problems[0])
    existing = table_names()
    if existing and not yes:
        raise DomainError(f"目标数据库不是空的（已有 {len(existing)} 张表）：恢复会覆盖其中全部数据。"
                          "确认要覆盖时请加 --yes。")
    with tempfile.TemporaryDirectory(prefix="legaltrack-restore-") as folder:
        payload = Path(folder) / header["payload"]
        with tarfile.open(path, "r") as archive:
            member = archive.getmember(header["payload"])
            if not member.isfile():
                raise DomainError(f"{path.name} 已损坏：缺少数据库内容。")
            with archive.extractfile(member) as source, payload.open("wb") as target:
                shutil.copyfileobj(source, target)
        if _sha256(payload) != header.get("payload_sha256"):
            raise DomainError(f"{path.name} 已损坏：数据库内容的校验值不符。")
        if header["engine"] == "postgresql":
            _pg_restore(payload=payload, empty_first=bool(existing))
        else:
            _sqlite_restore(payload=payload)
    connection.close()
    return RestoreResult(header=header, tables=len(table_names()))


def _pg_restore(*, payload: Path, empty_first: bool) -> None:
    tool = pg_tool("pg_restore")
    if empty_first:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
    connection.close()
    args, env = _pg_conninfo()
    _run([tool, *args, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          "-d", connection.settings_dict["NAME"], str(payload)], env, "pg_restore 恢复")


def _sqlite_restore(*, payload: Path) -> None:
    connection.close()
    _sqlite_copy(source=payload, target=Path(connection.settings_dict["NAME"]))
