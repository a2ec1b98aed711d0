from __future__ import annotations

from pathlib import Path

from certificates.imports import certificate_import_file
from config.cli import DomainCommand


class Command(DomainCommand):
    help = (
        "导入执法证登记（CSV 或 XLSX）：按身份证号或工号匹配人员，姓名须一致；按证件号幂等。"
        "默认导入有效行并报告其余行；--strict 时任何一行有问题都不导入。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="执法证登记文件")
        parser.add_argument("--dry-run", action="store_true", help="试运行：检查并报告，不作任何改动")
        parser.add_argument("--strict", action="store_true", help="严格模式：任何一行有问题则不导入任何证件")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, file: Path, dry_run: bool, strict: bool, json: bool, **options) -> None:
        result = certificate_import_file(path=file, strict=strict, dry_run=dry_run)
        self.report_import(result, as_json=json)
