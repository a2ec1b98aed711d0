"""Builders shared by the tests: unit trees, roster files (CSV and XLSX), command runner."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command

from roster.demo import make_id_number
from roster.models import Unit
from roster.units import units_rebuild_paths

UNIT_TREE = (
    ("D", "测试区", None, "admin"),
    ("A", "测试区财政局", "D", "department"),
    ("B", "测试区司法局", "D", "department"),
    ("T", "测试镇", "D", "town"),
    ("T1", "测试镇综合执法队", "T", "other"),
    ("E", "测试区教育局", "D", "education"),
    ("S1", "测试第一小学", "E", "school"),
)

ROSTER_HEADER = ["工号", "姓名", "身份证号", "单位", "职务", "是否正职", "执法证号", "手机号"]


def make_units() -> dict[str, Unit]:
    created: dict[str, Unit] = {}
    for order, (code, name, parent, kind) in enumerate(UNIT_TREE):
        created[code] = Unit.objects.create(
            code=code, name=name, parent=created.get(parent) if parent else None, kind=kind, sort_order=order
        )
    units_rebuild_paths()
    for unit in created.values():
        unit.refresh_from_db()
    return created


_rng = random.Random(7)


def new_id() -> str:
    return make_id_number(_rng)


@dataclass
class Person:
    staff_no: str
    name: str
    id_number: str
    unit: str
    position: str = "科员"
    is_head: str = "否"
    cert: str = ""
    phone: str = ""

    def row(self) -> list[str]:
        return [self.staff_no, self.name, self.id_number, self.unit, self.position, self.is_head, self.cert, self.phone]


def people(n: int, unit: str = "A", start: int = 1) -> list[Person]:
    return [Person(f"{start + i:04d}", f"人员{start + i}", new_id(), unit, phone=f"1380000{start + i:04d}") for i in range(n)]


def csv_bytes(rows: Iterable[Sequence[Any]], header: Sequence[str] = ROSTER_HEADER, encoding: str = "utf-8",
              title_rows: Sequence[str] = ()) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for title in title_rows:
        writer.writerow([title])
    writer.writerow(header)
    for row in rows:
        writer.writerow(row.row() if isinstance(row, Person) else row)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: Iterable[Sequence[Any]], header: Sequence[str] = ROSTER_HEADER, title_rows: Sequence[str] = (),
               sheets_before: Sequence[tuple[str, list[list[Any]]]] = ()) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    first = workbook.active
    first.title = "名册" if not sheets_before else sheets_before[0][0]
    target = first
    if sheets_before:
        for cells in sheets_before[0][1]:
            first.append(cells)
        for title, content in sheets_before[1:]:
            extra = workbook.create_sheet(title)
            for cells in content:
                extra.append(cells)
        target = workbook.create_sheet("名册")
    for title in title_rows:
        target.append([title])
    target.append(list(header))
    for row in rows:
        target.append(row.row() if isinstance(row, Person) else list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass
class CommandOutcome:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        import json

        return json.loads(self.out.strip().splitlines()[-1])


def run_command(name: str, *args: Any) -> CommandOutcome:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stderr(err):
        try:
            call_command(name, *[str(a) for a in args], stdout=out, stderr=err)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return CommandOutcome(code, out.getvalue(), err.getvalue())


# --- signed-in personas (API and web tests) -----------------------------------------------

PASSWORD = "Zq8!long-enough-pass"


@pytest.fixture(autouse=True)
def _fast_hasher_and_clean_cache(settings):
    """Imported by the conftests that sign people in: a cheap password hasher, and no login
    throttle or rate-limit counts carried over from another test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()



@dataclass(frozen=True)
class StoredUpload:
    """Where a record's private file is kept, whatever the storage (database or folder)."""

    name: str

    def exists(self) -> bool:
        from sheets.storage import private_upload_storage

        return bool(self.name) and private_upload_storage().exists(self.name)

    is_file = exists


def stored_upload(file_field) -> StoredUpload:
    return StoredUpload(file_field.name or "")


# --- Celery queues of a test's own (config/queues.py) --------------------------------------


def queue_prefix() -> str:
    """A fresh CELERY_QUEUE_PREFIX: a test's workers and messages keep to themselves on Redis."""
    import uuid

    return f"test-{uuid.uuid4().hex[:8]}-"


def queue_env(prefix: str) -> dict[str, str]:
    """The environment a worker process needs to use the queues of ``prefix``."""
    return {"CELERY_QUEUE_PREFIX": prefix, "CELERY_TASK_DEFAULT_QUEUE": f"{prefix}celery"}


@contextmanager
def own_queues(prefix: str | None = None) -> Iterator[str]:
    """Route what this process publishes to the queues of ``prefix`` (a fresh one by default)."""
    from django.test import override_settings

    from config.celery import app

    prefix = prefix or queue_prefix()
    previous = app.conf.task_default_queue
    with override_settings(CELERY_QUEUE_PREFIX=prefix):
        app.conf.task_default_queue = f"{prefix}celery"
        try:
            yield prefix
        finally:
            app.conf.task_default_queue = previous


def worker_queue_arg(prefix: str, *only: str) -> str:
    """The ``-Q`` value of a worker taking ``only`` (by default every queue) of ``prefix``."""
    from config.queues import DEFAULT, QUEUES

    return ",".join(f"{prefix}celery" if q == DEFAULT else f"{prefix}{q}" for q in (only or (DEFAULT, *QUEUES)))
