from __future__ import annotations

from typing import Any

from config.cli import DomainCommand
from exams.enrolment import exam_refresh
from exams.imports import exam_get
from exams.selectors import exam_stats_with_makeup
from roster.selectors import unit_from_option


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


class Command(DomainCommand):
    help = "显示考试的统计数字（应考、实考、未考、合格、不合格、参考率、合格率、平均分），可限定某单位及其下属单位。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("exam_id", help="考试编号")
        parser.add_argument("--unit", default=None, help="单位代码：只统计该单位及其下属单位")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, exam_id: str, unit: str | None, json: bool, **options) -> None:
        exam = exam_get(exam_id=exam_id)
        scope = unit_from_option(unit)
        exam_refresh(exam=exam)
        figures = exam_stats_with_makeup(exam=exam, unit=scope)
        if json:
            self.emit_json(figures)
            return
        self.write_text(exam, scope, figures)

    def write_text(self, exam: Any, scope: Any, f: dict[str, Any]) -> None:
        where = f"{scope.name}（{scope.code}）及下属单位" if scope else "全部单位"
        average = "—" if f["average_score"] is None else f"{f['average_score']:.2f}"
        self.stdout.write(f"{exam}（{exam.get_kind_display()}，{exam.window_state()}）· {where}")
        self.stdout.write(f"考生 {f['candidates']} 人，其中免考 {f['exempt']} 人")
        self.stdout.write(f"应考 {f['expected']}，实考 {f['sat']}，未考 {f['not_sat']}，参考率 {percent(f['participation_rate'])}")
        self.stdout.write(f"合格 {f['passed']}，不合格 {f['failed']}，合格率 {percent(f['pass_rate'])}，平均分 {average}")
        if f.get("makeup_of"):
            self.stdout.write(f"本考试是考试（编号 {f['makeup_of']}）的补考，其数字已计入该考试。")
        m = f.get("makeup")
        if m:
            self.stdout.write(
                f"以上含补考“{m['name']}”（编号 {m['exam_id']}）：补考应考 {m['expected']}，实考 {m['sat']}，"
                f"合格 {m['passed']}，参考率 {percent(m['participation_rate'])}，合格率 {percent(m['pass_rate'])}"
            )
