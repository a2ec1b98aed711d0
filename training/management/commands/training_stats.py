from __future__ import annotations

from config.cli import DomainCommand
from config.errors import DomainError
from roster.selectors import unit_by_code
from training.exports import as_number
from training.models import kind_labels
from training.selectors import training_stats


def year_argument(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        raise DomainError(f"年度“{text}”无效，应为四位数字，例如 2024。")
    if not 1900 <= year <= 2999:
        raise DomainError(f"年度“{text}”无效，应为四位数字，例如 2024。")
    return year


def unit_argument(code: str | None):
    if code is None:
        return None
    unit = unit_by_code(code.strip().upper()) or unit_by_code(code.strip())
    if unit is None:
        raise DomainError(f"单位代码“{code}”不存在。")
    return unit


class Command(DomainCommand):
    help = "培训统计：某年度的活动数（按类型）、参训人次、参训人数和总学时；--unit 只统计该单位及下级单位人员的出勤。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("year", help="年度，例如 2024")
        parser.add_argument("--unit", default=None, help="单位代码（含下级单位）")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, year: str, unit: str | None, json: bool, **options) -> None:
        stats = training_stats(year=year_argument(year), unit=unit_argument(unit))
        if json:
            self.emit_json({**stats, "person_hours": as_number(stats["person_hours"])})
            return
        labels = kind_labels()
        kinds = "，".join(f"{labels.get(k, k)} {n}" for k, n in stats["by_kind"].items()) or "无"
        self.stdout.write(f"{year} 年培训活动 {stats['events']} 场（{kinds}）。")
        self.stdout.write(
            f"参训 {stats['attendances']} 人次，{stats['staff_trained']} 人，共 {as_number(stats['person_hours'])} 学时。"
        )
