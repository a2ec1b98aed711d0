"""Structured logs: with ``LOG_FORMAT=json`` every line is one JSON object with the time, level,
logger, message, ``request_id``, ``user_id`` and ``job_id``. The redaction filter runs first, so
no ID number or phone reaches a line in either format.

``X-Request-ID`` is taken from the request (or made), returned on the response and carried in
the headers of the Celery tasks the request enqueues, so a worker's lines share the id."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from typing import Any

from .redact import redact

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
request_var: contextvars.ContextVar[Any] = contextvars.ContextVar("request", default=None)
job_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)
user_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("user_id", default=None)

_GOOD_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REQUEST_ID_HEADER = "X-Request-ID"


def current_request_id() -> str | None:
    return request_id_var.get()


def _user_id() -> int | None:
    """The signed-in user of the current request, when already known (never loads it: that would
    query the database from inside a log call)."""
    if (known := user_id_var.get()) is not None:
        return known
    request = request_var.get()
    if request is None:
        return None
    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", user)  # a SimpleLazyObject not yet evaluated holds `empty`
    if wrapped is None or type(wrapped).__name__ == "object":
        return None
    return getattr(wrapped, "pk", None) if getattr(wrapped, "is_authenticated", False) else None


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``user_id`` and ``job_id`` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", None) or request_id_var.get()
        record.user_id = getattr(record, "user_id", None) or _user_id()
        record.job_id = getattr(record, "job_id", None) or job_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
            "job_id": getattr(record, "job_id", None),
        }
        if record.exc_info or record.exc_text:
            entry["exception"] = redact(record.exc_text or self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestIdMiddleware:
    """Takes ``X-Request-ID`` (letters, digits, ``._:-``, up to 128) or makes one; returns it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _GOOD_REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        # set for the whole request, including Django's own "Not Found" line written after the
        # middleware returns; cleared when the response is closed (request_finished)
        request_id_var.set(request_id)
        request_var.set(request)
        user_id_var.set(None)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def clear_request_context(**kwargs) -> None:
    request_id_var.set(None)
    request_var.set(None)
    user_id_var.set(None)


# --- Celery: the request id travels in the task's headers --------------------------------


def task_publish_add_request_id(headers: dict | None = None, **kwargs) -> None:
    """``before_task_publish``: the publishing request's id goes into the message headers."""
    request_id = request_id_var.get()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


def task_prerun_set_context(task=None, args=None, **kwargs) -> None:
    """``task_prerun``: the task's lines carry the request id and the job (the record id)."""
    request = getattr(task, "request", None)
    request_id = getattr(request, "request_id", None) or (getattr(request, "headers", None) or {}).get("request_id")
    if request_id or not getattr(request, "is_eager", False):
        request_id_var.set(request_id)
    job = args[0] if args and isinstance(args[0], int) else None
    job_id_var.set(f"{task.name.rsplit('.', 1)[-1]}:{job}" if job is not None else getattr(request, "id", None))


def task_postrun_clear_context(task=None, **kwargs) -> None:
    """An eager task returns to its request: drop the job. A worker keeps both until the next
    task sets its own, so Celery's "succeeded" line (written after postrun) carries them."""
    if getattr(getattr(task, "request", None), "is_eager", False):
        job_id_var.set(None)
