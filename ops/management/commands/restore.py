"""``manage.py restore FILE [--yes]``: restore a backup made by ``manage.py backup`` into the
configured database. Refuses, in Chinese and with a non-zero exit, a file taken with another
key, a newer schema, another engine, or a target that is not empty without ``--yes``."""

from __future__ import annotations

from pathlib import Path

from config.cli import DomainCommand
from ops.backup import restore


class Command(DomainCommand):
    # the target may hold data under other keys (it is about to be replaced): the checks of
    # the keys are the header's, in ops.backup.refusals
    requires_system_checks: list[str] = []
    help = "从 manage.py backup 生成的文件恢复数据库。密钥不符、结构更新或目标库非空（未加 --yes）时拒绝。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="备份文件")
        parser.add_argument("--yes", action="store_true", help="目标数据库非空时，确认覆盖其全部数据")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, file: str, yes: bool, json: bool, **options) -> None:
        result = restore(path=Path(file), yes=yes)
        header = result.header
        if json:
            self.emit_json({"restored": True, "tables": result.tables, **header})
            return
        self.stdout.write(f"已恢复 {Path(file).name}（备份于 {header['created_at']}，{result.tables} 张表）。"
                          "如程序版本更新，请接着运行 python manage.py migrate。")
