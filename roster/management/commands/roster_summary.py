from __future__ import annotations

from config.cli import DomainCommand
from roster.selectors import roster_summary


class Command(DomainCommand):
    help = "显示名册概况：在册人数、离册人数、单位数。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, json: bool, **options) -> None:
        summary = roster_summary()
        if json:
            self.emit_json(summary)
        else:
            self.stdout.write(f"在册 {summary['active']} 人，离册 {summary['inactive']} 人，单位 {summary['units']} 个。")
