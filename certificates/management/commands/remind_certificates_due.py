from __future__ import annotations

from certificates.due_reminders import remind_certificates_due
from config.cli import DomainCommand
from reminders.management.commands._common import report_send


class Command(DomainCommand):
    help = ("向单位联络员（邮件）和单位群机器人发送执法证到期提醒：每个接收方收到本单位及下级单位待续期和已过期的"
            "执法证张数。每个接收方每个渠道每周只发送一次。")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--within", default=None, help="多少天内到期算待续期（默认 CERT_RENEWAL_WINDOW_DAYS）")
        parser.add_argument("--dry-run", action="store_true", help="试运行：不发送、不记录，只报告将发送的消息")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, within: str | None, dry_run: bool, json: bool, **options) -> None:
        report_send(self, remind_certificates_due(within=within, dry_run=dry_run), as_json=json)
