"""Prometheus metrics (prometheus-client), multiprocess-safe under gunicorn and prefork workers.

Counters and histograms kept by the processes themselves: requests by view, method and status,
and their latency; login failures and throttled requests; Celery tasks by name and state, and
their durations. With ``PROMETHEUS_MULTIPROC_DIR`` set (compose sets it), every process writes
its values to files there and an exposition sums them (``MultiProcessCollector``), so /metrics
is the same whichever gunicorn worker answers. Figures read from the database (job records,
snapshot age, imported rows, reminder messages) are collected at scrape time: ops/metrics.py."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import (  # noqa: E402
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,  # noqa: E402
)

REQUESTS = Counter("legaltrack_http_requests_total", "HTTP requests by view, method and status",
                   ["view", "method", "status"])
LATENCY = Histogram("legaltrack_http_request_duration_seconds", "HTTP request latency by view and method",
                    ["view", "method"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
LOGIN_FAILURES = Counter("legaltrack_login_failures_total", "Failed sign-ins by reason (bad_credentials, throttled)",
                         ["reason"])
THROTTLED = Counter("legaltrack_throttled_requests_total", "Requests refused by a rate limit, by scope", ["scope"])
TASKS = Counter("legaltrack_celery_tasks_total", "Celery tasks by task and state", ["task", "state"])
TASK_SECONDS = Histogram("legaltrack_celery_task_duration_seconds", "Celery task run time by task", ["task"],
                         buckets=(0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900))


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class _ThisProcess:
    """The default registry's collectors (one process, no multiprocess directory)."""

    def collect(self):
        yield from REGISTRY.collect()


def registry(*extra) -> CollectorRegistry:
    fresh = CollectorRegistry(auto_describe=False)
    if multiprocess_mode():
        multiprocess.MultiProcessCollector(fresh)
    else:
        fresh.register(_ThisProcess())
    for collector in extra:
        fresh.register(collector)
    return fresh


def exposition(*extra) -> bytes:
    return generate_latest(registry(*extra))


class MetricsMiddleware:
    """Counts every request by its view's name (never the raw path: bounded labels)."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match._func_path) if match else "<unmatched>"
        method = request.method if request.method in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} else "other"
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        LATENCY.labels(view, method).observe(time.perf_counter() - started)
        if response.status_code == 429:
            THROTTLED.labels("api" if request.path.startswith("/api/") else "web").inc()
        return response


_task_started: dict[str, float] = {}


def task_prerun(task_id=None, task=None, **kwargs) -> None:
    _task_started[task_id] = time.perf_counter()


def task_postrun(task_id=None, task=None, state=None, **kwargs) -> None:
    name = getattr(task, "name", "?")
    TASKS.labels(name, state or "UNKNOWN").inc()
    started = _task_started.pop(task_id, None)
    if started is not None:
        TASK_SECONDS.labels(name).observe(time.perf_counter() - started)
