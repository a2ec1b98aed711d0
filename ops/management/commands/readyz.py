"""``manage.py readyz [--only COMPONENT ...] [--queue QUEUE ...]``: the checks of /readyz from a
shell (the compose health checks of the workers and beat use it). Exit 0 when the chosen
components are ok. ``--queue``: the workers of these queues only (a worker's own), by their
names in config/queues.py (imports, reports, reminders, default), CELERY_QUEUE_PREFIX added."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

COMPONENTS = ("database", "migrations", "broker", "workers", "beat")


class Command(BaseCommand):
    help = "检查数据库、迁移、消息队列、worker 心跳与 beat（与 /readyz 相同），全部正常时退出码为 0。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--only", nargs="+", choices=COMPONENTS, help="只检查这些项目")
        parser.add_argument("--queue", nargs="+", choices=("default", "imports", "reports", "reminders"),
                            help="只检查这些队列的 worker（默认：READYZ_QUEUES）")

    def handle(self, *args, **options) -> None:
        from config.queues import worker_queues
        from ops.readiness import readiness

        _, report = readiness(queues=worker_queues(*options["queue"]) if options["queue"] else None)
        chosen = options["only"] or COMPONENTS
        self.stdout.write(json.dumps(report, ensure_ascii=False))
        if any(report[name] != "ok" for name in chosen):
            sys.exit(1)
