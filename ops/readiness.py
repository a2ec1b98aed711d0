"""/readyz: is everything this system needs up? Each component answers "ok" or a Chinese
reason; the whole is ready only when all are ok."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils import timezone

OK = "ok"
_migrations_ok = False  # once all are applied they stay applied for this process's code


def check_database() -> str:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"数据库不可用（{type(exc).__name__}）"
    return OK


def check_migrations() -> str:
    global _migrations_ok
    if _migrations_ok:
        return OK
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return f"无法读取迁移记录（{type(exc).__name__}）"
    if plan:
        return f"有 {len(plan)} 个数据库迁移尚未执行（如 {plan[0][0].app_label}.{plan[0][0].name}）"
    _migrations_ok = True
    return OK


def check_broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return OK  # no broker: tasks run in-process
    from kombu import Connection

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2,
                        transport_options={"socket_connect_timeout": 2, "socket_timeout": 2}) as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
            if conn.transport_cls in ("redis", "rediss") or conn.transport.driver_type == "redis":
                conn.default_channel.client.ping()
    except Exception as exc:  # kombu and redis raise many kinds
        return f"消息队列不可用（{type(exc).__name__}）"
    return OK


def _stale_after() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.READYZ_STALE_SECONDS)


def check_workers(queues: list[str] | None = None) -> dict[str, str]:
    """Per queue (by default READYZ_QUEUES): a worker consuming it wrote its heartbeat within
    READYZ_STALE_SECONDS."""
    queues = list(settings.READYZ_QUEUES if queues is None else queues)
    if not settings.CELERY_BROKER_URL:
        return {queue: OK for queue in queues}
    from .models import Heartbeat

    try:
        rows = list(Heartbeat.objects.filter(name__startswith="worker:").values_list("name", "at"))
    except DatabaseError as exc:
        return {queue: f"无法读取心跳（{type(exc).__name__}）" for queue in queues}
    cutoff = _stale_after()
    answer: dict[str, str] = {}
    for queue in queues:
        times = [at for name, at in rows if name.split(":")[1] == queue]
        if not times:
            answer[queue] = f"队列 {queue} 没有在运行的 worker"
        elif max(times) < cutoff:
            age = int((timezone.now() - max(times)).total_seconds())
            answer[queue] = f"队列 {queue} 的 worker 已 {age} 秒没有心跳"
        else:
            answer[queue] = OK
    return answer


def check_beat() -> str:
    if not settings.CELERY_BROKER_URL:
        return OK
    from .models import Heartbeat

    try:
        at = Heartbeat.objects.filter(name="beat").values_list("at", flat=True).first()
    except DatabaseError as exc:
        return f"无法读取心跳（{type(exc).__name__}）"
    if at is None:
        return "beat 没有运行（没有记录）"
    if at < _stale_after():
        return f"beat 已 {int((timezone.now() - at).total_seconds())} 秒没有运行"
    return OK


def readiness(*, queues: list[str] | None = None) -> tuple[bool, dict]:
    database = check_database()
    report: dict = {
        "database": database,
        "migrations": check_migrations() if database == OK else "数据库不可用",
        "broker": check_broker(),
    }
    queues = check_workers(queues) if database == OK else {
        q: "数据库不可用" for q in (settings.READYZ_QUEUES if queues is None else queues)}
    bad = [reason for reason in queues.values() if reason != OK]
    report["workers"] = "；".join(bad) if bad else OK
    report["queues"] = queues
    report["beat"] = check_beat() if database == OK else "数据库不可用"
    ready = all(report[key] == OK for key in ("database", "migrations", "broker", "workers", "beat"))
    report["status"] = OK if ready else "unavailable"
    return ready, report
