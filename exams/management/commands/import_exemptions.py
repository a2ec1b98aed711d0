from __future__ import annotations

from pathlib import Path

from config.cli import DomainCommand
from exams.imports import exam_import_file
from sheets.models import ImportKind


class Command(DomainCommand):
    help = "导入免考名单（工号或身份证号、姓名、免考原因）。已参加考试的人员不能免考。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("exam_id", help="考试编号")
        parser.add_argument("file", type=Path, help="免考名单文件（CSV 或 XLSX）")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, exam_id: str, file: Path, json: bool, **options) -> None:
        result = exam_import_file(exam_id=exam_id, path=file, kind=ImportKind.EXAM_EXEMPTIONS)
        self.report_import(result, as_json=json)
