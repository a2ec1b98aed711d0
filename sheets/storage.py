"""Where an uploaded file waits for its job: in the database by default, so that a worker on
any machine can read what the web server received, and nothing of it stays on one disk.

``UPLOAD_STORAGE=filesystem`` keeps the files under ``PRIVATE_UPLOAD_ROOT`` instead, for a
single-machine install that prefers it. Either way the file is deleted once its import has
finished (see ``sheets.services.upload_delete_on_commit`` and the jobs' sweeper)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage, storages
from django.db import connections, router
from django.utils import timezone
from django.utils.deconstruct import deconstructible


def private_upload_storage() -> Storage:
    """The storage of every uploaded and generated private file (a FileField's ``storage``)."""
    return storages["private_uploads"]


@contextmanager
def _bound_cursor(connection: Any) -> Iterator[Any]:
    """A psycopg cursor on Django's own connection (so inside the caller's transaction) that
    sends parameters bound, not inlined. Django's client-side binding writes a file's bytes into
    the statement as an escaped literal: a province's 80 MB roster took 2.1 s to store and 1.3 s
    to read that way, 0.44 s and 0.22 s bound and read in binary (measured)."""
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        yield cursor


@deconstructible
class DatabaseStorage(Storage):
    """Files as rows of ``sheets.StoredFile``: written in the caller's transaction, so an upload
    whose record rolls back leaves nothing behind."""

    def _model(self):
        from .models import StoredFile

        return StoredFile

    def _open(self, name: str, mode: str = "rb") -> File:
        if "w" in mode or "a" in mode:
            raise ValueError("数据库存储的文件只能读取；写入请用 save()。")
        model = self._model()
        connection = connections[router.db_for_read(model)]
        if connection.vendor == "postgresql":
            with _bound_cursor(connection) as cursor:
                cursor.execute(f"SELECT content FROM {model._meta.db_table} WHERE name = %s", [name], binary=True)
                found = cursor.fetchone()
            if found is None:
                raise FileNotFoundError(name)
            return ContentFile(bytes(found[0]), name=name)
        row = model.objects.filter(name=name).only("content").first()
        if row is None:
            raise FileNotFoundError(name)
        return ContentFile(bytes(row.content), name=name)

    def _save(self, name: str, content: IO[Any]) -> str:
        if hasattr(content, "seek"):
            content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode()
        model = self._model()
        connection = connections[router.db_for_write(model)]
        if connection.vendor == "postgresql":
            with _bound_cursor(connection) as cursor:
                cursor.execute(
                    f"INSERT INTO {model._meta.db_table} (name, content, size, created_at) VALUES (%s, %s, %s, %s)",
                    [name, data, len(data), timezone.now()],
                )
            return name
        model.objects.create(name=name, content=data, size=len(data))
        return name

    def delete(self, name: str) -> None:
        if name:
            self._model().objects.filter(name=name).delete()

    def exists(self, name: str) -> bool:
        return self._model().objects.filter(name=name).exists()

    def size(self, name: str) -> int:
        row = self._model().objects.filter(name=name).only("size").first()
        if row is None:
            raise FileNotFoundError(name)
        return row.size

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = path.rstrip("/") + "/" if path else ""
        names = self._model().objects.filter(name__startswith=prefix).values_list("name", flat=True)
        dirs: set[str] = set()
        files: list[str] = []
        for name in names:
            rest = name[len(prefix):]
            if "/" in rest:
                dirs.add(rest.split("/", 1)[0])
            else:
                files.append(rest)
        return sorted(dirs), sorted(files)

    def get_created_time(self, name: str):
        row = self._model().objects.filter(name=name).only("created_at").first()
        if row is None:
            raise FileNotFoundError(name)
        return row.created_at

    get_modified_time = get_created_time

    def url(self, name: str | None) -> str:
        raise NotImplementedError("私有文件没有公开地址：经由有权限的下载页面读取。")

    def get_valid_name(self, name: str) -> str:
        return posixpath.normpath(name.replace("\\", "/")).lstrip("/")

    def now(self):
        return timezone.now()
