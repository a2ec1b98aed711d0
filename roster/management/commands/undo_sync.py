from __future__ import annotations

from config.cli import EXIT_REFUSED, DomainCommand
from config.errors import DomainError
from roster.models import RosterSync
from roster.staff import STAFF_LABELS
from roster.undo import roster_undo_now


class Command(DomainCommand):
    help = ("撤销一次名册同步：把它改动的字段还原为原值，它停用的人员恢复在册，它新增的人员停用（不会删除）。"
            "其后又被改过的字段为冲突：默认整体拒绝。")

    def add_arguments(self, parser) -> None:
        parser.add_argument("sync_id", type=int, help="要撤销的同步编号")
        parser.add_argument("--dry-run", action="store_true", help="试运行：报告将还原什么和冲突，不作改动")
        parser.add_argument("--skip-conflicts", action="store_true", help="跳过冲突的字段，撤销其余改动")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, sync_id: int, dry_run: bool, skip_conflicts: bool, json: bool, **options) -> None:
        target = RosterSync.objects.filter(pk=sync_id).first()
        if target is None:
            raise DomainError(f"同步 #{sync_id} 不存在。")
        result = roster_undo_now(target=target, dry_run=dry_run, skip_conflicts=skip_conflicts)
        if json:
            self.emit_json(result.as_dict())
        else:
            (self.stdout if result.ok else self.stderr).write(result.message)
            for c in result.conflicts:
                label = STAFF_LABELS.get(c["field"], c["field"])
                verb = "已跳过" if result.skipped else "冲突"
                self.stderr.write(
                    f"{verb}：工号 {c['staff_no']}「{label}」同步写入“{c['synced_value']}”，现为“{c['current_value']}”。"
                )
        if not result.ok:
            raise SystemExit(EXIT_REFUSED)
