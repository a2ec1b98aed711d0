"""``manage.py backup -o FILE``: the whole database (pg_dump -Fc, or SQLite's online backup) in
one file with a header naming the schema version and the keys' fingerprints (ops/backup.py)."""

from __future__ import annotations

from pathlib import Path

from audit.models import AuditAction
from audit.services import audit_record
from config.cli import DomainCommand, command_username
from ops.backup import backup, backup_prune
from roster.models import Staff


class Command(DomainCommand):
    help = "备份整个数据库到一个文件（PostgreSQL 用 pg_dump -Fc，SQLite 用在线备份），文件头记录数据库结构版本与密钥指纹。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("-o", "--output", required=True, help="备份文件路径")
        parser.add_argument("--keep-days", type=float, default=None,
                            help="备份后删除同一目录中早于这么多天的 *.backup 文件（始终保留最新的一个）")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, output: str, keep_days: float | None, json: bool, **options) -> None:
        result = backup(output=Path(output))
        header = result.header
        # the file holds every person's name and phone (the ID numbers stay encrypted): an export
        audit_record(
            user=None, username=command_username(), action=AuditAction.EXPORT, target="database:backup",
            reason=f"命令行备份整个数据库（{result.path.name}）", rows=Staff.objects.count(),
        )
        removed = backup_prune(folder=result.path.parent, keep_days=keep_days) if keep_days is not None else []
        if json:
            self.emit_json({"file": str(result.path), "pruned": [str(p) for p in removed], **header})
            return
        if removed:
            self.stdout.write(f"已删除 {len(removed)} 个超过 {keep_days:g} 天的旧备份。")
        self.stdout.write(f"已备份到 {result.path}（{header['engine']}，{header['payload_bytes']} 字节，"
                          f"{len(header['schema'])} 个应用的迁移版本）。")
