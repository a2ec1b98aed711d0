"""Set-based writes of the register: rows in by COPY (PostgreSQL) or executemany (SQLite),
updates through a temporary stage and one UPDATE .. FROM, history by INSERT .. SELECT."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection

from .models import Certificate, CertificateChange, CertificateChangeKind

CERT = Certificate._meta.db_table
CHANGE = CertificateChange._meta.db_table
STAGE = "certificate_update_stage"
CERT_COLUMNS = ("number", "kind", "staff_id", "issued_on", "expires_on", "authority", "status", "created_at",
                "updated_at")
CHANGE_COLUMNS = ("certificate_id", "import_record_id", "kind", "field", "old_value", "new_value", "changed_at")


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _adapt(value: Any) -> Any:
    ops = connection.ops
    if isinstance(value, dt.datetime):
        return ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return ops.adapt_datefield_value(value)
    return value


def rows_insert(*, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        return
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if _postgres():
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                               [[_adapt(v) for v in row] for row in rows])


def certificates_insert(*, rows: Sequence[Sequence[Any]], record_id: int, at: dt.datetime) -> None:
    """Insert new certificates (``CERT_COLUMNS``, all stamped ``created_at = at``) and one
    "created" history row each."""
    rows_insert(table=CERT, columns=CERT_COLUMNS, rows=rows)
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {CHANGE} ({", ".join(CHANGE_COLUMNS)})
                SELECT id, %s, %s, '', '', number, %s FROM {CERT} WHERE created_at = %s""",
            [record_id, CertificateChangeKind.CREATED.value, _adapt(at), _adapt(at)],
        )


def certificates_update(*, rows: Sequence[Sequence[Any]], at: dt.datetime) -> None:
    """``rows``: (id, kind, issued_on, expires_on, status, authority), written in one UPDATE."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(
            f"""CREATE TEMP TABLE {STAGE} (id bigint NOT NULL, kind varchar(16) NOT NULL, issued_on date NOT NULL,
                    expires_on date NOT NULL, status varchar(16) NOT NULL, authority varchar(200) NOT NULL)"""
        )
    rows_insert(table=STAGE, columns=("id", "kind", "issued_on", "expires_on", "status", "authority"), rows=rows)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {CERT} SET kind = s.kind, issued_on = s.issued_on, expires_on = s.expires_on,
                       status = s.status, authority = s.authority, updated_at = %s
                  FROM {STAGE} s WHERE s.id = {CERT}.id""",
            [_adapt(at)],
        )
        cursor.execute(f"DROP TABLE {STAGE}")


def changes_insert(*, rows: Sequence[Sequence[Any]]) -> None:
    """History rows (``CHANGE_COLUMNS``)."""
    rows_insert(table=CHANGE, columns=CHANGE_COLUMNS, rows=rows)
