from __future__ import annotations

from config.cli import DomainCommand
from reminders.not_sat import remind_not_sat

from ._common import report_send


class Command(DomainCommand):
    help = ("向单位联络员（邮件）和单位群机器人（企业微信、钉钉）发送考试未参考提醒：每个接收方收到本单位及下级单位的"
            "未参考人数。每个接收方每个渠道每周（ISO 周，北京时间）只发送一次；失败的消息再次运行时立即重试。")

    def add_arguments(self, parser) -> None:
        parser.add_argument("exam_id", help="考试编号")
        parser.add_argument("--unit", default=None, help="单位代码：只发给该单位及其下级单位的接收方")
        parser.add_argument("--dry-run", action="store_true", help="试运行：不发送、不记录，只报告将发送的消息")
        parser.add_argument("--force", action="store_true", help="本周期已发送的也再发送一次")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, exam_id: str, unit: str | None, dry_run: bool, force: bool, json: bool, **options) -> None:
        report = remind_not_sat(exam_id=exam_id, unit_code=unit, dry_run=dry_run, force=force)
        report_send(self, report, as_json=json)
