from __future__ import annotations

from config.cli import DomainCommand, command_username
from config.errors import DomainError
from records.exports import RECORD_FORMATS, format_check, staff_record_export
from records.selectors import record_rows, record_staff_get, staff_record
from reports.annual import year_check

from ._output import output_path, write_output


class Command(DomainCommand):
    help = (
        "显示一名人员的个人学法档案：每年的学时与应修学时、出勤记录、考试结果（json，默认输出到屏幕），"
        "或用 --format docx / xlsx 和 -o 写成 Word 文档或 Excel 表格（写入文件均记入审计）。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("staff_no", help="人员工号")
        parser.add_argument("--year", default=None, help="只看这一年度（2000 到 2100）")
        parser.add_argument("--format", default="json", help="输出格式：json（默认）、docx 或 xlsx（docx、xlsx 需要 -o）")
        parser.add_argument("-o", "--output", default=None, help="写入文件而不是屏幕")

    def handle(self, *args, staff_no: str, year: str | None, format: str, output: str | None, **options) -> None:
        fmt = format_check(format, allowed=RECORD_FORMATS)
        if fmt != "json" and output is None:
            raise DomainError(f"{fmt} 格式需要用 -o 指定输出文件。")
        the_year = year_check(year) if year is not None else None
        path = output_path(output)
        staff = record_staff_get(staff_no=staff_no)
        if staff is None:
            raise DomainError(f"工号“{staff_no.strip()}”不存在。")
        record = staff_record(staff=staff, year=the_year)
        if path is None:
            self.emit_json(record)
            return

        def write(out) -> None:
            out.write(staff_record_export(
                record=record, year=the_year, format=fmt, username=command_username(),
                reason=f"命令行导出个人学法档案（{fmt}，{path.name}）",
            ))

        write_output(path, write)
        self.stderr.write(f"已写入 {path}：{record['name']}（{record['staff_no']}）的学法档案，{record_rows(record)} 行。")
