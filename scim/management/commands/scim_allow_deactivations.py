from __future__ import annotations

from django.utils import timezone

from config.cli import DomainCommand, command_username
from scim.services import deactivation_guard_state, scim_deactivations_allow


class Command(DomainCommand):
    help = (
        "允许 SCIM 在一段时间内（默认 SCIM_DEACTIVATION_ALLOWANCE_MINUTES 分钟）越过大批停用保护，"
        "继续停用人员。由人事部门在确认人事系统的停用无误后运行。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--minutes", type=int, default=None, help="许可时长（分钟）")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, minutes: int | None, json: bool, **options) -> None:
        before = deactivation_guard_state()
        allowance = scim_deactivations_allow(username=command_username(), minutes=minutes)
        until = timezone.localtime(allowance.until)
        if json:
            self.emit_json({"allowed_until": until.isoformat(), "recent_deactivations": before["recent"],
                            "active": before["active"], "allowed_by": allowance.username})
            return
        self.stdout.write(
            f"已允许 SCIM 越过大批停用保护，至 {until:%Y-%m-%d %H:%M}。"
            f"（此前一小时内 SCIM 已停用 {before['recent']} 人，在册 {before['active']} 人。）"
        )
