from __future__ import annotations

from pathlib import Path

from config.cli import EXIT_REFUSED, DomainCommand
from config.errors import DomainError
from roster.units import unit_import


class Command(DomainCommand):
    help = "从单位表（代码、名称、上级代码、类型）创建或更新单位。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="CSV 或 XLSX 文件")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
        parser.add_argument("--dry-run", action="store_true", help="只列出将要发生的改动，不写入")

    def handle(self, *args, file: Path, json: bool, dry_run: bool = False, **options) -> None:
        if not file.is_file():
            raise DomainError(f"文件不存在：{file}")
        result = unit_import(data=file.read_bytes(), filename=file.name, dry_run=dry_run)
        if json:
            self.emit_json(result.as_dict())
        else:
            if dry_run and not result.errors:
                self.stdout.write(f"试运行：将新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}；未写入。")
                for c in result.changes:
                    self.stdout.write(f"  {c['code']} {c['field']}：{c['old']} → {c['new']}")
            for m in result.moves:
                self.stdout.write(
                    f"移动：{m['code']} 从 {m['old_parent'] or '（根）'} 移到 {m['new_parent'] or '（根）'}"
                    f"（在册人员 {m['staff']}，下级单位 {m['sub_units']}）"
                )
            if result.applied:
                self.stdout.write(f"单位导入完成：新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}。")
            for p in result.errors:
                where = f"第 {p.row} 行" if p.row else "文件"
                self.stderr.write(f"{where} {p.column or ''}：{p.message}")
        if dry_run and not result.errors:
            return
        if not result.applied:
            if not json:
                self.stderr.write("单位导入被拒绝：未作任何改动。")
            raise SystemExit(EXIT_REFUSED)
