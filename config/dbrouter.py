"""The optional read replica (issue 18): with ``DATABASE_REPLICA_URL`` set, the read-only
selectors of figures, lists and reports read from the ``replica`` database alias; everything
else stays on the primary (``default``).

A selector opts in with ``@replica_read`` (or a caller with ``with reading_replica():``). The
router sends a read to the replica only when all of these hold:

- a ``replica`` alias is configured;
- the read happens inside ``reading_replica()`` (a contextvar, so threads and requests do not
  leak it into each other);
- no job is running in this context (``primary_only()``, which ``config.jobs`` wraps every
  job in: an import, a sync, a snapshot refresh or a reminder reads what it writes);
- the primary is not inside a transaction (``atomic``): what this request just wrote is read
  back from the primary, never from a replica that may lag.

Writes always go to the primary; migrations run on the primary only (the replica is a copy).
Without ``DATABASE_REPLICA_URL`` nothing changes: every read and write is on ``default``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

REPLICA = "replica"

_reading: ContextVar[bool] = ContextVar("legaltrack_reading_replica", default=False)
_primary: ContextVar[bool] = ContextVar("legaltrack_primary_only", default=False)

F = TypeVar("F", bound=Callable[..., Any])


def replica_configured() -> bool:
    return REPLICA in connections.settings


def replica_allowed() -> bool:
    """Whether a read here may go to the replica (see the module's docstring)."""
    return (
        _reading.get()
        and not _primary.get()
        and replica_configured()
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    )


@contextmanager
def reading_replica() -> Iterator[None]:
    """The reads in this block may go to the replica."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


@contextmanager
def primary_only() -> Iterator[None]:
    """Every read in this block goes to the primary, even inside ``reading_replica()``."""
    token = _primary.set(True)
    try:
        yield
    finally:
        _primary.reset(token)


def replica_read(func: F) -> F:
    """A read-only selector whose reads may go to the replica. A QuerySet it returns is pinned
    to the replica (when allowed at the call), since it is evaluated later, outside the call; a
    generator reads from the replica at each step."""
    if inspect.isgeneratorfunction(func):
        @functools.wraps(func)
        def stepping(*args: Any, **kwargs: Any) -> Any:
            iterator = func(*args, **kwargs)
            while True:
                with reading_replica():
                    try:
                        item = next(iterator)
                    except StopIteration as stop:
                        return stop.value
                yield item

        return stepping  # type: ignore[return-value]

    @functools.wraps(func)
    def reading(*args: Any, **kwargs: Any) -> Any:
        with reading_replica():
            result = func(*args, **kwargs)
            if isinstance(result, QuerySet) and result._db is None and replica_allowed():
                result = result.using(REPLICA)
        return result

    return reading  # type: ignore[return-value]


class ReplicaRouter:
    """``DATABASE_ROUTERS``: reads to the replica when ``replica_allowed()``, all else to default."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return REPLICA if replica_allowed() else DEFAULT_DB_ALIAS

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database, copied: objects from either alias are the same rows

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


_task_tokens: dict[str, Any] = {}


def task_prerun_primary_only(task_id: str | None = None, **kwargs: Any) -> None:
    """Celery ``task_prerun``: a task (a job, a beat task) reads from the primary only."""
    _task_tokens[task_id or ""] = _primary.set(True)


def task_postrun_primary_only(task_id: str | None = None, **kwargs: Any) -> None:
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        try:
            _primary.reset(token)
        except ValueError:  # set in another context (cannot happen in a worker): just clear it
            _primary.set(False)
