from __future__ import annotations

from config.cli import DomainCommand, command_username
from sheets.voiding import import_void


class Command(DomainCommand):
    help = (
        "撤销一次导入（考试成绩、免考名单或签到表）：删除该次导入写入的考试记录、免考或出勤记录；"
        "其他未撤销的导入也提供过的记录保留。--dry-run 只报告将删除多少，不作改动。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("import_id", help="导入记录编号")
        parser.add_argument("--dry-run", action="store_true", help="试运行：只报告将删除和保留多少，不作任何改动")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
        parser.add_argument("--reason", default="", help="撤销原因（记入导入记录和审计日志）")

    def handle(self, *args, import_id: str, dry_run: bool, json: bool, reason: str, **options) -> None:
        result = import_void(import_id=import_id, dry_run=dry_run, reason=reason, username=command_username())
        if json:
            self.emit_json(result.as_dict())
            return
        head = "试运行（未作任何改动）：撤销后将删除" if dry_run else "已撤销，删除了"
        removed = result.removed
        self.stdout.write(
            f"导入 {result.import_id}：{head}考试记录 {removed['attempts']} 条、免考 {removed['exemptions']} 人、"
            f"出勤记录 {removed['attendances']} 条；其他导入也提供过、予以保留的 {result.kept} 条。"
        )
