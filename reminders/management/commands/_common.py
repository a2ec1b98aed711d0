"""What the reminder commands share: printing a send report, and its exit status."""

from __future__ import annotations

from config.cli import EXIT_REFUSED, DomainCommand
from reminders.models import Channel
from reminders.outbox import SendReport

STATUS_LABELS = {"sent": "已发送", "skipped": "跳过（本周期已发送）", "failed": "失败", "would_send": "将发送"}


def report_send(command: DomainCommand, report: SendReport, *, as_json: bool) -> None:
    """Print the report (one line per message, or the JSON object); exit 1 when any message failed."""
    if as_json:
        command.emit_json(report.as_dict())
    else:
        for m in report.messages:
            error = f"：{m.error}" if m.error else ""
            command.stdout.write(f"{m.unit}\t{Channel(m.channel).label}\t{m.recipient}\t未完成 {m.not_sat} 人\t"
                                 f"{STATUS_LABELS.get(m.status, m.status)}{error}")
        if not report.messages:
            command.stdout.write("没有需要提醒的接收方（没有人待完成，或没有设置邮箱与群机器人）。")
        command.stdout.write(report.summary())
    if report.any_failed:
        raise SystemExit(EXIT_REFUSED)
