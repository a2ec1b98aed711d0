from __future__ import annotations

from certificates.renewal import certificates_renew
from config.cli import DomainCommand
from exams.imports import exam_get


class Command(DomainCommand):
    help = (
        "按执法续职考试续期执法证：考试合格者的执法证在考试截止日处于待续期或已过期的，"
        "有效期延至（原有效期与截止日中较晚者）加 CERT_RENEWAL_YEARS 年。重复运行不会重复续期。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("exam_id", help="考试编号（执法续职考试）")
        parser.add_argument("--dry-run", action="store_true", help="试运行：列出将续期的证件，不作任何改动")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, exam_id: str, dry_run: bool, json: bool, **options) -> None:
        result = certificates_renew(exam=exam_get(exam_id=exam_id), dry_run=dry_run)
        if json:
            self.emit_json(result.as_dict())
            return
        self.stdout.write(result.message)
        for cert in result.certificates:
            self.stdout.write(f"  {cert['number']}（工号 {cert['staff_no']}）：{cert['old_expires_on']} → {cert['new_expires_on']}")
