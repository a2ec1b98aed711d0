"""The backup and restore drill on the real database (SQLite, or PostgreSQL when DATABASE_URL
points at it): seed -> backup -> restore into a fresh database -> the same figures; a file
taken with another key, a newer schema, or a non-empty target without --yes is refused."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import ROOT

PG = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
REVEAL = ("from roster.models import Staff; import hashlib; s = Staff.objects.order_by('pk').first(); "
          "print(s.pk, hashlib.sha256(s.reveal_id_number().encode()).hexdigest())")


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class Databases:
    """Fresh databases of the engine under test, named after the test database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: list[str] = []
        db = settings.DATABASES["default"]
        self.base = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        self.prefix = f"{db['NAME'].removeprefix('test_')}_bk"

    def fresh(self, name: str) -> str:
        if not PG:
            path = self.folder / f"{name}.sqlite3"
            path.unlink(missing_ok=True)
            return f"sqlite:///{path}"
        database = f"{self.prefix}_{name}"
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database], check=True,
                       capture_output=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
        self.made.append(database)
        return f"{self.base}/{database}"

    def drop_all(self) -> None:
        for database in self.made:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database], capture_output=True)


def _env(url: str, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELD_", "CELERY_", "DATABASE_", "REDIS_"))}
    env.update(DATABASE_URL=url, FIELD_ENCRYPTION_KEY=key)
    return env


def manage(env: dict, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def figures(env: dict) -> dict:
    exams = json.loads(ok(manage(env, "shell", "-v0", "-c", "from exams.models import Exam; import json; "
                                 "print(json.dumps(sorted(Exam.objects.values_list('pk', flat=True))))")))
    return {
        "roster_summary": json.loads(ok(manage(env, "roster_summary", "--json"))),
        "revealed": ok(manage(env, "shell", "-v0", "-c", REVEAL)).strip(),
        "exam_stats": {pk: json.loads(ok(manage(env, "exam_stats", str(pk), "--json"))) for pk in exams},
    }


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backup")
    databases = Databases(folder)
    key = _key()
    env = _env(databases.fresh("src"), key)
    ok(manage(env, "migrate", "-v0"))
    ok(manage(env, "seed_demo"))
    file = folder / "legaltrack.backup"
    ok(manage(env, "backup", "-o", str(file)))
    yield databases, env, key, file, figures(env)
    databases.drop_all()


def test_the_file_records_schema_and_key_fingerprint_not_the_key(seeded):
    _, env, key, file, _ = seeded
    with tarfile.open(file) as archive:
        header = json.loads(archive.extractfile("header.json").read())
        names = archive.getnames()
    assert header["engine"] == ("postgresql" if PG else "sqlite")
    assert header["schema"]["roster"].startswith("00") and "exams" in header["schema"]
    assert len(header["key_fingerprints"]["aes"]) == 1
    assert key not in file.read_bytes().decode("latin-1")
    assert names == ["header.json", "database.dump" if PG else "database.sqlite3"]
    assert oct(file.stat().st_mode & 0o777) == "0o600"


def test_restore_into_a_fresh_database_gives_the_same_figures(seeded):
    databases, _, key, file, before = seeded
    target = _env(databases.fresh("drill"), key)
    out = ok(manage(target, "restore", str(file)))
    assert "已恢复" in out
    after = figures(target)
    assert after == before
    assert before["roster_summary"]["active"] > 2000 and before["exam_stats"]


def test_a_file_taken_with_another_key_is_refused(seeded):
    databases, _, _, file, _ = seeded
    target = _env(databases.fresh("wrongkey"), _key())
    done = manage(target, "restore", str(file), "--yes")
    assert done.returncode != 0 and "另一个加密密钥" in done.stderr and "FIELD_ENCRYPTION_KEY" in done.stderr
    assert "Traceback" not in done.stderr
    tables = manage(target, "shell", "-v0", "-c", "from django.db import connection; print(len(connection.introspection.table_names()))")
    assert tables.stdout.strip() == "0"


def test_a_newer_schema_is_refused(seeded, tmp_path):
    databases, _, key, file, _ = seeded
    newer = tmp_path / "newer.backup"
    with tarfile.open(file) as source, tarfile.open(newer, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "header.json":
                header = json.loads(data)
                header["schema"]["roster"] = "9999_from_a_later_release"
                data = json.dumps(header).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    done = manage(_env(databases.fresh("newer"), key), "restore", str(newer))
    assert done.returncode != 0 and "比本程序新" in done.stderr and "roster.9999_from_a_later_release" in done.stderr


def test_a_non_empty_target_needs_yes(seeded):
    databases, _, key, file, before = seeded
    target = _env(databases.fresh("busy"), key)
    ok(manage(target, "migrate", "-v0"))
    done = manage(target, "restore", str(file))
    assert done.returncode != 0 and "不是空的" in done.stderr and "--yes" in done.stderr
    ok(manage(target, "restore", str(file), "--yes"))
    assert json.loads(ok(manage(target, "roster_summary", "--json"))) == before["roster_summary"]


def test_a_file_that_is_not_a_backup_is_refused(seeded, tmp_path):
    databases, _, key, _, _ = seeded
    junk = tmp_path / "junk.backup"
    junk.write_bytes(hashlib.sha256(b"x").digest() * 100)
    done = manage(_env(databases.fresh("junk"), key), "restore", str(junk))
    assert done.returncode != 0 and "不是本系统的备份文件" in done.stderr


def test_keep_days_deletes_only_the_old_backups(seeded, tmp_path):
    _, env, _, _, _ = seeded
    folder = tmp_path / "backups"
    folder.mkdir()
    old, recent, other = folder / "legaltrack-old.backup", folder / "legaltrack-recent.backup", folder / "notes.txt"
    for path, days in ((old, 20), (recent, 3), (other, 40)):
        path.write_bytes(b"x")
        stamp = time.time() - days * 86400
        os.utime(path, (stamp, stamp))
    out = ok(manage(env, "backup", "-o", str(folder / "legaltrack-new.backup"), "--keep-days", "14"))
    assert "已删除 1 个" in out
    assert sorted(p.name for p in folder.iterdir()) == ["legaltrack-new.backup", "legaltrack-recent.backup", "notes.txt"]


def test_a_backup_is_an_audited_export_of_everyone(seeded, tmp_path):
    _, env, _, _, before = seeded
    count = ("from audit.models import AuditEvent; "
             "print(AuditEvent.objects.filter(action='export', target='database:backup').values_list('rows', flat=True)"
             ".order_by('-id').first(), AuditEvent.objects.filter(target='database:backup').count())")
    first_rows, audits = ok(manage(env, "shell", "-v0", "-c", count)).split()
    ok(manage(env, "backup", "-o", str(tmp_path / "again.backup")))
    rows, after = ok(manage(env, "shell", "-v0", "-c", count)).split()
    staff = before["roster_summary"]["active"] + before["roster_summary"]["inactive"]
    assert int(after) == int(audits) + 1 and int(rows) == staff == int(first_rows)
