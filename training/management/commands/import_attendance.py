from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings

from config.cli import DomainCommand
from config.errors import DomainError
from roster.selectors import unit_by_code
from sheets.reader import SheetError
from training.attendance import attendance_import_sheet
from training.models import TrainingKind


class Command(DomainCommand):
    help = (
        "导入签到表：按名称和日期找到培训活动（没有则新建），记录签到表上人员的出勤。"
        "按 工号 → 身份证号 → 手机号 → 姓名+单位 的顺序匹配人员。只有文件无法读取时退出码才非零。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="签到表（CSV 或 XLSX）")
        parser.add_argument("--title", required=True, help="培训活动名称")
        parser.add_argument("--kind", required=True, help=f"培训类型：{', '.join(TrainingKind.values)}")
        parser.add_argument("--date", required=True, help="活动日期，YYYY-MM-DD")
        parser.add_argument("--hours", required=True, help="每位参加者的学时，可为小数")
        parser.add_argument("--organiser", default=None, help="主办单位代码")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, file: Path, title: str, kind: str, date: str, hours: str, organiser: str | None,
               json: bool, **options) -> None:
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            raise DomainError(f"日期“{date}”无效，应为 YYYY-MM-DD 格式。")
        unit = None
        if organiser:
            unit = unit_by_code(organiser.strip().upper()) or unit_by_code(organiser.strip())
            if unit is None:
                raise DomainError(f"主办单位代码“{organiser}”不存在。")
        if not file.is_file():
            raise SheetError(f"文件不存在：{file}")
        if file.stat().st_size > settings.SHEETS_MAX_BYTES:
            raise SheetError(f"文件超过大小上限（{settings.SHEETS_MAX_BYTES // (1024 * 1024)} MB）。")
        try:
            result = attendance_import_sheet(
                data=file.read_bytes(), file_name=file.name, title=title, kind=kind, date=day, hours=hours,
                organiser=unit,
            )
        except SheetError as exc:
            exc.code = "unreadable"  # a missing header is as unreadable as a broken file: exit 2
            raise
        if json:
            self.emit_json(result.as_dict())
            return
        self.stdout.write(f"培训活动编号 {result.event_id}{'（新建）' if result.event_created else ''}。")
        self.stdout.write(result.message)
        for warning in result.warnings:
            self.stdout.write(f"提示：{warning}")
        for p in result.errors:
            where = f"第 {p.row} 行" if p.row else "文件"
            column = f"「{p.column}」" if p.column else ""
            value = f"（{p.value}）" if p.value else ""
            self.stderr.write(f"{where}{column}{value}：{p.message}")
