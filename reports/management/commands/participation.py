from __future__ import annotations

from django.utils import timezone

from config.cli import DomainCommand
from config.errors import DomainError
from exams.models import Exam
from reports.annual import year_check
from reports.narrative import number, percent
from reports.selectors import participation_latest
from roster.selectors import unit_by_code


class Command(DomainCommand):
    help = "显示最新的参考情况统计快照（不重新计算）：某考试或某年度各单位的数字，默认含下属单位。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--exam", default=None, help="考试编号")
        parser.add_argument("--year", default=None, help="年度（该年度各考试和培训；默认今年）")
        parser.add_argument("--unit", default=None, help="单位代码：只显示该单位及其下属单位")
        parser.add_argument("--alone", action="store_true", help="只计单位本身（不含下属单位）")
        parser.add_argument("--json", action="store_true", help="输出 JSON 列表")

    def handle(self, *args, exam: str | None, year: str | None, unit: str | None, alone: bool, json: bool,
               **options) -> None:
        target = None
        if exam is not None:
            target = Exam.objects.filter(pk=int(exam) if exam.strip().isdigit() else -1).first()
            if target is None:
                raise DomainError(f"考试不存在：{exam}")
        scope = None
        if unit is not None:
            scope = unit_by_code(unit.strip()) or unit_by_code(unit.strip().upper())
            if scope is None:
                raise DomainError(f"单位代码“{unit}”不存在。")
        rows = participation_latest(exam=target, year=year_check(year) if year else None, unit=scope, rollup=not alone)
        if json:
            self.emit_json([{**row, "computed_at": timezone.localtime(row["computed_at"]).isoformat()} for row in rows])
            return
        if not rows:
            self.stdout.write("还没有统计快照：请等待定时刷新，或运行 python manage.py refresh_snapshots --all。")
            return
        heading = None
        for row in rows:
            title = (f"{row['year']} 年 {row['exam_name']}" if row["scope"] == "exam" else f"{row['year']} 年培训")
            if row.get("makeup_of"):
                title += f"（考试 {row['makeup_of']} 的补考，其数字已计入该考试）"
            title += f"（统计于 {timezone.localtime(row['computed_at']):%Y-%m-%d %H:%M}，{'不含' if alone else '含'}下属单位）"
            if title != heading:
                self.stdout.write(title)
                heading = title
            indent = "  " * (row["depth"] + 1)
            name = f"{indent}{row['unit_name']}（{row['unit_code']}）"
            if row["scope"] == "exam":
                self.stdout.write(
                    f"{name} 应考 {row['expected']}，实考 {row['sat']}，未考 {row['not_sat']}，"
                    f"参考率 {percent(row['participation_rate']) or '—'}，合格率 {percent(row['pass_rate']) or '—'}"
                )
            else:
                self.stdout.write(
                    f"{name} 参训 {row['attendances']} 人次、{row['staff_trained']} 人、{number(row['person_hours'])} 学时，"
                    f"学时未达标 {row['staff_below_hours']} 人"
                )
