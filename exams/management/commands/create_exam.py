from __future__ import annotations

from config.cli import DomainCommand
from exams.creation import exam_create
from exams.models import Audience, ExamKind

from ._common import parse_date


class Command(DomainCommand):
    help = "创建考试，并按应考范围登记考生。最后一行只输出新考试的编号。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", required=True, help="考试名称")
        parser.add_argument("--year", required=True, type=int, help="年度，例如 2026")
        parser.add_argument("--kind", required=True, help=f"考试类型：{' / '.join(ExamKind.values)}")
        parser.add_argument(
            "--audience", default=None,
            help=f"应考范围：{' / '.join(Audience.values)}（学法用法考试默认 all，执法类考试默认 enforcement）",
        )
        parser.add_argument("--pass-mark", default="60", help="合格分数线，默认 60")
        parser.add_argument("--max-score", default="100", help="满分，默认 100")
        parser.add_argument("--opens", default=None, help="开考日期 YYYY-MM-DD，默认当年 1 月 1 日")
        parser.add_argument("--closes", default=None, help="截止日期 YYYY-MM-DD，默认当年 12 月 31 日")
        parser.add_argument(
            "--makeup-of", dest="makeup_of", default=None, metavar="EXAM_ID",
            help="作为该考试（编号）的补考：类型、年度须相同；考生为该考试应考而未合格的人员",
        )

    def handle(self, *args, name: str, year: int, kind: str, audience: str | None, pass_mark: str,
               max_score: str, opens: str | None, closes: str | None, makeup_of: str | None = None,
               **options) -> None:
        exam = exam_create(
            name=name,
            year=year,
            kind=kind,
            audience=audience,
            pass_mark=pass_mark,
            max_score=max_score,
            opens_on=parse_date(opens, "开考日期"),
            closes_on=parse_date(closes, "截止日期"),
            makeup_of=makeup_of,
        )
        enrolled = exam.candidates.count()
        scope = (
            f"“{exam.makeup_of.name}”（编号 {exam.makeup_of_id}）的补考，考生为其应考而未合格的人员"
            if exam.makeup_of_id else f"应考范围：{exam.get_audience_display()}"
        )
        self.stdout.write(
            f"已创建考试：{exam}（{exam.get_kind_display()}），{scope}，"
            f"考试时间 {exam.opens_on} 至 {exam.closes_on}（{exam.window_state()}），登记考生 {enrolled} 人。"
        )
        self.stdout.write(str(exam.pk))
