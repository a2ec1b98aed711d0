from __future__ import annotations

from pathlib import Path

from audit.models import AuditAction
from audit.services import audit_record
from certificates import exports
from certificates.selectors import STATE_CHOICES, certificate_entries, certificates_on
from config.cli import DomainCommand, command_username
from config.errors import DomainError
from roster.selectors import unit_from_option

from ._common import parse_on

FORMATS = ("table", "csv", "xlsx", "json")


class Command(DomainCommand):
    help = "列出执法证登记及其在某日的状态（有效、待续期、已过期、暂扣、吊销、注销；left 为持证人已离册），按单位、有效期排序。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--unit", default=None, help="单位代码：该单位及其全部下属单位")
        parser.add_argument("--state", default=None, help=f"状态：{' / '.join(STATE_CHOICES)}")
        parser.add_argument("--on", default=None, help="按哪一天计算状态（YYYY-MM-DD，默认今天）")
        parser.add_argument("--format", default="table", help="输出格式：table / csv / xlsx / json（xlsx 需要 -o）")
        parser.add_argument("-o", dest="output", type=Path, default=None, help="写入文件而不是屏幕")

    def handle(self, *args, unit: str | None, state: str | None, on: str | None, format: str,
               output: Path | None, **options) -> None:
        fmt = format.strip().lower()
        if fmt not in FORMATS:
            raise DomainError(f"输出格式应为 {' / '.join(FORMATS)} 之一，而不是“{format}”。")
        if state is not None and state.strip().lower() not in STATE_CHOICES:
            raise DomainError(f"状态应为 {' / '.join(STATE_CHOICES)} 之一，而不是“{state}”。")
        if fmt == "xlsx" and output is None:
            raise DomainError("xlsx 格式需要用 -o 指定输出文件。")
        day = parse_on(on)
        scope = unit_from_option(unit)
        entries = certificate_entries(
            certificates_on(on=day, unit=scope, state=state.strip().lower() if state else None), on=day
        )
        if fmt == "xlsx":
            data = exports.as_xlsx(entries)
        elif fmt == "csv":
            data = exports.as_csv(entries)
        elif fmt == "json":
            data = exports.as_json({"on": day.isoformat(), "count": len(entries), "certificates": entries}).encode()
        else:
            data = (exports.as_table(entries) + f"\n共 {len(entries)} 张证件（{day.isoformat()}）。").encode()
        if output is None:
            self.stdout.write(data.decode("utf-8-sig").rstrip("\n"))
            return
        output.write_bytes(data if data.endswith(b"\n") or fmt == "xlsx" else data + b"\n")
        audit_record(
            user=None, username=command_username(), action=AuditAction.EXPORT,
            target="certificates" + (f":{scope.code}" if scope else ""),
            reason=f"命令行导出执法证名单（{fmt}，{output.name}）", rows=len(entries),
        )
        self.stderr.write(f"已写入 {output}：{len(entries)} 张证件。")
