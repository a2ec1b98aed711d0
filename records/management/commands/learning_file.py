from __future__ import annotations

from config.cli import DomainCommand, command_username
from config.errors import DomainError
from records.exports import FILE_FORMATS, format_check, learning_file_export
from reports.annual import year_check
from roster.models import Unit
from roster.ordering import unit_order
from training.management.commands.training_stats import unit_argument

from ._output import output_path, write_output


class Command(DomainCommand):
    help = (
        "生成某单位（含下级单位）的年度学法档案：xlsx（汇总、明细两张表）或 docx（每人一页），"
        "列出年末在册的人员；不指定 --unit 时为全区。写入文件记入审计。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("year", help="年度，例如 2024")
        parser.add_argument("--unit", default=None, help="单位代码（含下级单位）；不填为全区")
        parser.add_argument("--format", default=None, help="xlsx 或 docx（必填）")
        parser.add_argument("-o", "--output", default=None, help="输出文件（必填）")

    def handle(self, *args, year: str, unit: str | None, format: str | None, output: str | None, **options) -> None:
        if format is None:
            raise DomainError("请用 --format 指定 xlsx 或 docx。")
        fmt = format_check(format, allowed=FILE_FORMATS)
        if output is None:
            raise DomainError(f"{fmt} 格式需要用 -o 指定输出文件。")
        the_year = year_check(year)
        path = output_path(output)
        the_unit = unit_argument(unit) if unit is not None else (
            Unit.objects.filter(parent__isnull=True).order_by(*unit_order()).first()
        )
        if the_unit is None:
            raise DomainError("还没有任何单位。")
        people = write_output(path, lambda out: learning_file_export(
            unit=the_unit, year=the_year, format=fmt, out=out, username=command_username(),
            reason=f"命令行导出年度学法档案（{fmt}，{path.name}）",
        ))
        self.stderr.write(f"已写入 {path}：{the_unit.name} {the_year} 年度学法档案，{people} 人。")
