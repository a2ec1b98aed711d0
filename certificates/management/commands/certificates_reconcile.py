from __future__ import annotations

from certificates.selectors import certificates_reconcile
from config.cli import DomainCommand


class Command(DomainCommand):
    help = (
        "核对名册的“执法证号”与执法证登记：列出名册有执法证号而登记中没有该证的人员，"
        "以及登记中的执法证其持证人名册执法证号为空或不一致的证件。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, json: bool, **options) -> None:
        result = certificates_reconcile()
        if json:
            self.emit_json(result)
            return
        roster_side, register_side = result["roster_without_certificate"], result["register_not_in_roster"]
        self.stdout.write(f"名册有执法证号、登记中无此证：{len(roster_side)} 人")
        for s in roster_side:
            self.stdout.write(f"  {s['unit_name']} {s['staff_no']} {s['name']}：名册执法证号 {s['roster_number']}")
        self.stdout.write(f"登记中的执法证、名册执法证号为空或不一致：{len(register_side)} 张")
        for c in register_side:
            roster = c["roster_number"] or "（空）"
            self.stdout.write(f"  {c['unit_name']} {c['staff_no']} {c['name']}：证件号 {c['number']}，名册 {roster}")
