from __future__ import annotations

from pathlib import Path

from config.cli import DomainCommand
from config.errors import DomainError
from reports.annual import annual_report_build, annual_report_file_name, annual_report_render, format_check, year_check


class Command(DomainCommand):
    help = (
        "生成某年度的学法用法考试和法治培训年度报告：json（默认，未指定 -o 时输出到屏幕）、"
        "xlsx（Excel 表格）、docx（Word 文档）或 png（各单位参考率和合格率图）。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("year", help="年度，例如 2024")
        parser.add_argument("--format", default="json", help="输出格式：json、xlsx、docx 或 png（默认 json）")
        parser.add_argument("-o", "--output", default=None, help="输出文件；不指定时 json 输出到屏幕，其他格式写入 annual-report-年度.扩展名")

    def handle(self, *args, year: str, format: str, output: str | None, **options) -> None:
        year_value = year_check(year)
        fmt = format_check(format)
        if output is not None and not output.strip():
            raise DomainError("输出文件名不能为空。")
        report = annual_report_build(year=year_value)
        if fmt == "json" and output is None:
            self.emit_json(report)
            return
        data = annual_report_render(report=report, format=fmt)
        path = Path(output or annual_report_file_name(year=year_value, format=fmt))
        if path.is_dir():
            raise DomainError(f"输出位置“{path}”是一个文件夹，请指定文件名。")
        if not path.parent.exists():
            raise DomainError(f"输出文件夹“{path.parent}”不存在。")
        path.write_bytes(data)
        self.stdout.write(f"已生成 {year_value} 年度报告（{fmt}，{len(data):,} 字节）：{path}")
