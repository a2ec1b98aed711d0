from __future__ import annotations

from config.cli import DomainCommand
from config.errors import DomainError
from reports.annual import year_check
from reports.snapshots import snapshots_refresh


class Command(DomainCommand):
    help = "立即重算参考情况统计快照（按单位，含/不含下属单位）：指定考试和培训年度，或用 --all 重算全部。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--exam", action="append", default=[], help="考试编号（可重复）")
        parser.add_argument("--year", action="append", default=[], help="培训年度（可重复）")
        parser.add_argument("--all", action="store_true", help="重算全部考试和有培训活动的年度")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, exam: list[str], year: list[str], all: bool, json: bool, **options) -> None:
        if not (all or exam or year):
            raise DomainError("请指定 --exam、--year 或 --all。")
        exam_ids = []
        for value in exam:
            try:
                exam_ids.append(int(value))
            except ValueError:
                raise DomainError(f"考试编号“{value}”无效，应为数字。")
        run = snapshots_refresh(exam_ids=exam_ids, years=[year_check(y) for y in year], everything=all)
        if json:
            self.emit_json({
                "run_id": run.pk, "computed_at": run.computed_at.isoformat(), "exams": run.exams, "years": run.years,
                "rows": run.rows, "duration_ms": run.duration_ms,
            })
            return
        self.stdout.write(f"{run.message}统计时间 {run.computed_at:%Y-%m-%d %H:%M:%S}，耗时 {run.duration_ms} 毫秒。")
