from __future__ import annotations

from config.cli import DomainCommand
from reminders.hours import remind_hours_below

from ._common import report_send


class Command(DomainCommand):
    help = ("向单位联络员（邮件）和单位群机器人发送某年度学时未达标提醒：每个接收方收到本单位及下级单位学时低于"
            "年度要求的人数。每个接收方每个渠道每周只发送一次。")

    def add_arguments(self, parser) -> None:
        parser.add_argument("year", help="年度，例如 2025")
        parser.add_argument("--unit", default=None, help="单位代码：只发给该单位及其下级单位的接收方")
        parser.add_argument("--dry-run", action="store_true", help="试运行：不发送、不记录，只报告将发送的消息")
        parser.add_argument("--force", action="store_true", help="本周期已发送的也再发送一次")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, year: str, unit: str | None, dry_run: bool, force: bool, json: bool, **options) -> None:
        report = remind_hours_below(year=year, unit_code=unit, dry_run=dry_run, force=force)
        report_send(self, report, as_json=json)
