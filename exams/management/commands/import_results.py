from __future__ import annotations

from pathlib import Path

from config.cli import DomainCommand
from exams.imports import exam_import_file
from sheets.models import ImportKind


class Command(DomainCommand):
    help = (
        "导入考试平台导出的成绩（CSV 或 XLSX）：按工号、否则按身份证号匹配人员，姓名须一致。"
        "默认导入有效行并报告其余行；--strict 时任何一行有问题都不导入。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("exam_id", help="考试编号")
        parser.add_argument("file", type=Path, help="成绩文件")
        parser.add_argument("--strict", action="store_true", help="严格模式：任何一行有问题则不导入任何成绩")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, exam_id: str, file: Path, strict: bool, json: bool, **options) -> None:
        result = exam_import_file(exam_id=exam_id, path=file, kind=ImportKind.EXAM_RESULTS, strict=strict)
        self.report_import(result, as_json=json)
