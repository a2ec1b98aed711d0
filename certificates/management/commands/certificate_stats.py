from __future__ import annotations

from certificates.selectors import certificate_stats
from config.cli import DomainCommand
from roster.selectors import unit_from_option

from ._common import parse_on

LABELS = {"holders": "持证人数", "valid": "有效", "due": "待续期", "expired": "已过期", "suspended": "暂扣",
          "revoked": "吊销", "surrendered": "注销", "left": "持证人已离册"}


class Command(DomainCommand):
    help = "执法证统计：持证人数（按人计）与各状态证件数，按单位树逐级汇总。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--unit", default=None, help="单位代码：该单位及其全部下属单位")
        parser.add_argument("--on", default=None, help="按哪一天计算状态（YYYY-MM-DD，默认今天）")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, unit: str | None, on: str | None, json: bool, **options) -> None:
        stats = certificate_stats(on=parse_on(on), unit=unit_from_option(unit))
        if json:
            self.emit_json(stats)
            return
        self.stdout.write(f"截至 {stats['on']}：" + "，".join(f"{label} {stats[key]}" for key, label in LABELS.items()))
        for row in stats["by_unit"]:
            self.stdout.write(
                f"{row['unit_code']} {row['unit_name']}：" + "，".join(f"{label} {row[key]}" for key, label in LABELS.items())
            )
