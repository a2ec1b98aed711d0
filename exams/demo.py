"""Demo exams for the made-up district: this year's law exam, open now, with most staff
having sat (a few exempt, a few failed, some retakes); last year's, closed; and an
enforcement renewal exam in progress. Everything goes through the real services and files
shaped like the exam platform's export. Deterministic for a given seed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from decimal import Decimal

from django.utils import timezone

from roster.demo import demo_people, demo_units, make_id_number, make_name
from roster.models import Staff
from sheets.models import ImportKind

from .creation import exam_create
from .imports import exam_import_create, exam_import_run
from .models import Exam, ExamKind
from .selectors import exam_stats

EXEMPT_REASONS = ("长期病假", "产假", "援外借调", "临近退休", "驻村工作", "脱产学习")


def _exemptions_csv(rows: list[tuple[str, str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["工号", "姓名", "免考原因"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _results_xlsx(title: str, rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "成绩"
    sheet.append([title])
    sheet.append(["序号", "姓名", "身份证号", "所在单位", "考试成绩", "交卷时间"])
    for i, row in enumerate(rows, start=1):
        sheet.append([i, *row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _moment(rng: random.Random, start: dt.date, end: dt.date) -> dt.datetime:
    days = max((end - start).days, 0)
    day = start + dt.timedelta(days=rng.randint(0, days))
    return dt.datetime(day.year, day.month, day.day, rng.randint(8, 21), rng.randint(0, 59), rng.randint(0, 59))


def _score(rng: random.Random, mean: float, spread: float) -> Decimal:
    value = min(max(rng.gauss(mean, spread), 30.0), 100.0)
    return Decimal(round(value * 2) / 2).quantize(Decimal("0.1"))


def _seed_exam(
    *,
    rng: random.Random,
    name: str,
    year: int,
    kind: str,
    opens_on: dt.date,
    closes_on: dt.date,
    sat_share: float,
    mean: float,
    exempt_share: float,
    ids: dict[str, str],
    last_day: dt.date,
) -> Exam:
    existing = Exam.objects.filter(year=year, kind=kind, name=name).first()
    if existing:
        return existing
    exam = exam_create(name=name, year=year, kind=kind, opens_on=opens_on, closes_on=closes_on)
    people = list(
        exam.candidates.select_related("staff", "unit").order_by("staff__staff_no")
        .values_list("staff__staff_no", "staff__name", "unit__name")
    )
    exempt_rows = [(no, nm, rng.choice(EXEMPT_REASONS)) for no, nm, _ in people if rng.random() < exempt_share]
    if exempt_rows:
        record = exam_import_create(
            exam=exam, kind=ImportKind.EXAM_EXEMPTIONS, file=_exemptions_csv(exempt_rows), file_name=f"{year}免考名单.csv"
        )
        exam_import_run(record=record)
    exempt = {no for no, _, _ in exempt_rows}

    rows: list[list] = []
    for staff_no, staff_name, unit_name in people:
        if staff_no in exempt or staff_no not in ids:
            continue
        if rng.random() >= sat_share:
            if rng.random() < 0.02:
                rows.append([staff_name, ids[staff_no], unit_name, "缺考", None])
            continue
        first = _score(rng, mean, 10)
        rows.append([staff_name, ids[staff_no], unit_name, float(first), _moment(rng, opens_on, last_day)])
        if first < 60 and rng.random() < 0.6:
            retake = max(_score(rng, 72, 8), first)
            rows.append([staff_name, ids[staff_no], unit_name, float(retake), _moment(rng, opens_on, last_day)])
    # the platform also holds people from outside the district, and the odd typo
    for _ in range(3):
        rows.append([make_name(rng), make_id_number(rng), "市直单位", float(_score(rng, 80, 5)), _moment(rng, opens_on, last_day)])
    if len(rows) > 10:
        victim = rows[5]
        rows.append(["张冠李", victim[1], victim[2], 88.0, _moment(rng, opens_on, last_day)])
    rng.shuffle(rows)
    record = exam_import_create(
        exam=exam, kind=ImportKind.EXAM_RESULTS, file=_results_xlsx(f"{year}年{name}成绩导出", rows), file_name=f"{year}年{name}成绩.xlsx"
    )
    exam_import_run(record=record)
    return exam


def seed_demo(*, seed: int) -> str:
    if not Staff.objects.exists():
        return ""
    rng = random.Random(seed + 3)
    ids = {p.staff_no: p.id_number for p in demo_people(demo_units(), seed=seed)}
    today = timezone.localdate()
    year = today.year
    law_now = _seed_exam(
        rng=rng, name="国家工作人员学法用法考试", year=year, kind=ExamKind.ANNUAL_LAW,
        opens_on=max(dt.date(year, 1, 1), today - dt.timedelta(days=20)),
        closes_on=min(dt.date(year, 12, 31), today + dt.timedelta(days=25)),
        sat_share=0.86, mean=80, exempt_share=0.015, ids=ids, last_day=today,
    )
    law_last = _seed_exam(
        rng=rng, name="国家工作人员学法用法考试", year=year - 1, kind=ExamKind.ANNUAL_LAW,
        opens_on=dt.date(year - 1, 11, 1), closes_on=dt.date(year - 1, 11, 30),
        sat_share=0.97, mean=81, exempt_share=0.01, ids=ids, last_day=dt.date(year - 1, 11, 30),
    )
    renewal = _seed_exam(
        rng=rng, name="行政执法人员续职考试", year=year, kind=ExamKind.ENFORCEMENT_RENEWAL,
        opens_on=max(dt.date(year, 1, 1), today - dt.timedelta(days=10)),
        closes_on=min(dt.date(year, 12, 31), today + dt.timedelta(days=40)),
        sat_share=0.55, mean=79, exempt_share=0.0, ids=ids, last_day=today,
    )
    parts = []
    for exam in (law_now, law_last, renewal):
        f = exam_stats(exam=exam)
        parts.append(
            f"{exam}（{exam.window_state()}，编号 {exam.pk}）应考 {f['expected']}、实考 {f['sat']}、合格 {f['passed']}"
        )
    return "考试演示数据：" + "；".join(parts) + "。"
