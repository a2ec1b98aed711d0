from __future__ import annotations

from pathlib import Path

from audit.models import AuditAction
from audit.services import audit_record
from config.cli import DomainCommand, command_username
from config.errors import DomainError
from training.exports import hours_rows, to_csv, to_json, to_table, to_xlsx
from training.management.commands.training_stats import unit_argument, year_argument
from training.selectors import default_required_hours, hours_below, training_targets

FORMATS = ("table", "csv", "json", "xlsx")


class Command(DomainCommand):
    help = "列出某年度学时未达到要求的在册人员及其学时（默认要求 40 学时，可按年度和人员类别设置）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("year", help="年度，例如 2024")
        parser.add_argument("--unit", default=None, help="单位代码（含下级单位）")
        parser.add_argument("--format", default="table", help="输出格式：table、csv、json 或 xlsx")
        parser.add_argument("-o", "--output", default=None, help="写入文件（xlsx 必须指定）")

    def handle(self, *args, year: str, unit: str | None, format: str, output: str | None, **options) -> None:
        format = format.strip().lower()  # as not_sat: --format CSV works too
        if format not in FORMATS:
            raise DomainError(f"输出格式“{format}”无效，应为 table、csv、json 或 xlsx。")
        if format == "xlsx" and not output:
            raise DomainError("xlsx 格式需要用 -o 指定输出文件。")
        the_year, the_unit = year_argument(year), unit_argument(unit)
        required = default_required_hours(year=the_year)
        by_category = training_targets(year=the_year).filter(category__isnull=False).exists()
        rows = hours_rows(hours_below(year=the_year, unit=the_unit))
        scope = the_unit.name if the_unit else "全区"
        # with targets per 人员类别, each row's 应修学时 is the person's own
        target = "应修学时" if by_category else f"{required.normalize():f} 学时"
        if format == "xlsx":
            content: bytes | str = to_xlsx(rows, title=f"{scope} {the_year} 年学时未达 {target}人员（{len(rows)} 人）")
        elif format == "csv":
            content = to_csv(rows)
        elif format == "json":
            content = to_json(rows, year=the_year, required=required, unit_code=the_unit.code if the_unit else None)
        else:
            content = to_table(rows) + f"\n共 {len(rows)} 人学时低于{'各自的' if by_category else ' '}{target}。"
        if output:
            path = Path(output)
            try:
                if isinstance(content, bytes):
                    path.write_bytes(content)
                else:
                    # a BOM so that Excel opens the CSV as UTF-8
                    path.write_text(content, encoding="utf-8-sig" if format == "csv" else "utf-8")
            except OSError as exc:
                raise DomainError(f"无法写入文件 {path}：{exc.strerror or exc}")
            # names with 工号 in a file are a personal-data export, audited like not_sat -o
            audit_record(
                user=None, username=command_username(), action=AuditAction.EXPORT,
                target=f"training:{the_year}:hours_below" + (f":{the_unit.code}" if the_unit else ""),
                reason=f"命令行导出学时未达标人员名单（{format}，{path.name}）", rows=len(rows),
            )
            self.stderr.write(f"已写入 {path}：{len(rows)} 人。")
        else:
            self.stdout.write(content.rstrip("\n"))
