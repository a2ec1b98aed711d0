from __future__ import annotations

from pathlib import Path

from audit.models import AuditAction
from audit.services import audit_record
from config.cli import DomainCommand, command_username
from config.errors import DomainError
from exams import exports
from exams.enrolment import exam_refresh
from exams.imports import exam_get
from exams.selectors import exam_not_sat, makeup_figures, not_sat_entries
from roster.selectors import unit_from_option

FORMATS = ("table", "csv", "json", "xlsx")


class Command(DomainCommand):
    help = "列出应考而未参考的人员（工号、姓名、单位代码、单位名称、职务、手机号），按单位、工号排序。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("exam_id", help="考试编号")
        parser.add_argument("--unit", default=None, help="单位代码：该单位及其全部下属单位")
        parser.add_argument("--format", default="table", help="输出格式：table / csv / json / xlsx（xlsx 需要 -o）")
        parser.add_argument("-o", dest="output", type=Path, default=None, help="写入文件而不是屏幕")

    def handle(self, *args, exam_id: str, unit: str | None, format: str, output: Path | None, **options) -> None:
        fmt = format.strip().lower()
        if fmt not in FORMATS:
            raise DomainError(f"输出格式应为 {' / '.join(FORMATS)} 之一，而不是“{format}”。")
        if fmt == "xlsx" and output is None:
            raise DomainError("xlsx 格式需要用 -o 指定输出文件。")
        exam = exam_get(exam_id=exam_id)
        scope = unit_from_option(unit)
        exam_refresh(exam=exam)
        entries = not_sat_entries(exam_not_sat(exam=exam, unit=scope))
        if fmt == "xlsx":
            self.write_file(output, exports.as_xlsx(entries))
        else:
            text = {
                "table": lambda: exports.as_table(entries) + f"\n共 {len(entries)} 人未参考。" + self.makeup_line(exam, scope),
                "csv": lambda: exports.as_csv(entries),
                "json": lambda: exports.as_json(entries),
            }[fmt]()
            if output is None:
                self.stdout.write(text.rstrip("\n"))
            else:
                # a CSV for people opens in Excel: a BOM tells it the file is UTF-8
                encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
                self.write_file(output, (text if text.endswith("\n") else text + "\n").encode(encoding))
        if output is not None:
            # a file of names and phones is a personal-data export, audited like the API's downloads
            audit_record(
                user=None, username=command_username(), action=AuditAction.EXPORT,
                target=f"exam:{exam.pk}:not_sat" + (f":{scope.code}" if scope else ""),
                reason=f"命令行导出未参考人员名单（{fmt}，{output.name}）", rows=len(entries),
            )
            self.stderr.write(f"已写入 {output}：{len(entries)} 人未参考。")

    def makeup_line(self, exam, scope) -> str:
        """Beside a main exam's list: those who sat its make-up are not in it; the make-up's own."""
        f = makeup_figures(exam=exam, unit=scope)
        if f is None:
            return ""
        return (f"\n已参加补考“{f['name']}”（编号 {f['exam_id']}）的人员不在名单中；补考自身实考 {f['sat']} 人，"
                f"应考未考 {f['not_sat']} 人。")

    def write_file(self, path: Path, data: bytes) -> None:
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise DomainError(f"无法写入文件 {path}：{exc.strerror or exc}")

