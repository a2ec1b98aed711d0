"""Demo training data for the current and the previous year, shaped like the annual report:
one executive-meeting law lecture, two thematic study sessions, three lectures (contract
drafting, land-expropriation cases, the government investment regulations), a court-hearing
observation by unit heads, enforcement training, and two online courses; attendance from
sign-in sheets (one imported from a real sheet, with its problems), QR sign-in and manual
lists. Today's lecture has its QR sign-in open. Deterministic for a given seed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from roster.models import Staff, Unit

from .attendance import attendance_import, attendance_record
from .events import study_hours_requirement_set, training_event_create
from .models import Attendance, AttendanceSource, AttendanceStatus, Audience, TrainingEvent, TrainingKind


@dataclass(frozen=True)
class Plan:
    title: str
    kind: str
    month: int
    day: int
    hours: str
    audience: str
    organiser: str
    speaker: str
    location: str
    # share of the audience who attended; the rest mostly have no record, a few are excused
    turnout: float
    units: tuple[str, ...] = ()
    enforcement_only: bool = False
    source: str = AttendanceSource.SHEET


PLANS = (
    Plan("常务会学法：新修订《中华人民共和国行政复议法》", TrainingKind.EXECUTIVE_MEETING, 3, 14, "1", Audience.UNIT_HEADS,
         "LD01", "区司法局负责人", "区政府常务会议室", 0.92),
    Plan("法治专题学习：习近平法治思想专题学习", TrainingKind.STUDY_SESSION, 4, 18, "3", Audience.DISTRICT,
         "LD12", "市委党校教授", "区行政中心报告厅（各单位设分会场）", 0.72, source=AttendanceSource.QR),
    Plan("法治讲座：合同起草与审查实务", TrainingKind.LECTURE, 5, 22, "2.5", Audience.UNITS, "LD12", "律师事务所合伙人",
         "区行政中心三楼会议室", 0.85, units=("LD12", "LD04", "LD03", "LD16", "LD08")),
    Plan("法治讲座：征地拆迁典型案例解析", TrainingKind.LECTURE, 6, 13, "2", Audience.UNITS, "LD11", "市中级人民法院法官",
         "区行政中心报告厅", 0.82, units=("LD11", "LD06", "LD05", "LR", "LB")),
    Plan("网络课程：上半年网络学法", TrainingKind.ONLINE_COURSE, 6, 30, "20", Audience.DISTRICT, "LD12", "",
         "网络学法平台", 0.78, source=AttendanceSource.MANUAL),
    Plan("执法培训：行政执法程序与执法文书规范", TrainingKind.ENFORCEMENT_TRAINING, 7, 11, "8", Audience.DISTRICT, "LD12",
         "市司法局执法监督科", "区行政中心报告厅", 0.9, enforcement_only=True),
    Plan("法治专题学习：民法典与依法行政", TrainingKind.STUDY_SESSION, 9, 12, "3", Audience.DISTRICT, "LD12",
         "高校法学院教授", "区行政中心报告厅（各单位设分会场）", 0.68, source=AttendanceSource.QR),
    Plan("法治讲座：《政府投资条例》解读", TrainingKind.LECTURE, 10, 17, "2", Audience.UNITS, "LD03", "市发展改革委专家",
         "区行政中心三楼会议室", 0.8, units=("LD03", "LD04", "LD05", "LD16", "LD10")),
    Plan("旁听庭审：行政诉讼案件庭审旁听", TrainingKind.COURT_OBSERVATION, 11, 6, "4", Audience.UNIT_HEADS, "LD12", "",
         "市中级人民法院第三审判庭", 0.8),
    Plan("执法培训：执法人员公共法律知识轮训", TrainingKind.ENFORCEMENT_TRAINING, 12, 4, "6", Audience.DISTRICT, "LD12",
         "区司法局", "区行政中心报告厅", 0.88, enforcement_only=True),
    Plan("网络课程：下半年网络学法", TrainingKind.ONLINE_COURSE, 11, 20, "20", Audience.DISTRICT, "LD12", "",
         "网络学法平台", 0.7, source=AttendanceSource.MANUAL),
)

# the lecture imported from a typed-up sheet (name and unit only), each year
SHEET_LECTURE = "法治讲座：合同起草与审查实务"


@dataclass
class People:
    ids: list[int] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    enforcement: list[int] = field(default_factory=list)
    by_unit_path: dict[str, list[int]] = field(default_factory=dict)
    info: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (name, unit name)


def _people() -> People:
    people = People()
    rows = Staff.objects.filter(is_active=True).values_list(
        "id", "name", "is_head", "enforcement_cert", "unit__path", "unit__name"
    ).order_by("id")
    for pk, name, is_head, cert, path, unit_name in rows:
        people.ids.append(pk)
        if is_head:
            people.heads.append(pk)
        if cert:
            people.enforcement.append(pk)
        people.by_unit_path.setdefault(path, []).append(pk)
        people.info[pk] = (name, unit_name)
    return people


def _audience(plan: Plan, people: People, units: dict[str, Unit]) -> list[int]:
    if plan.audience == Audience.UNIT_HEADS:
        return people.heads
    if plan.enforcement_only:
        return people.enforcement
    if plan.audience == Audience.UNITS:
        paths = [units[c].path for c in plan.units if c in units]
        return [pk for path, ids in people.by_unit_path.items() if any(path.startswith(p) for p in paths) for pk in ids]
    return people.ids


def _sheet(rng: random.Random, attendees: list[int], people: People) -> bytes:
    """A typed-up sign-in sheet: name and unit only, one person signing twice, one visitor."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["合同起草与审查实务讲座签到表"])
    writer.writerow(["序号", "姓名", "单位", "签到时间"])
    rows = [(people.info[pk][0], people.info[pk][1], f"{8 + (i % 3 == 0)}:{rng.randrange(30, 59):02d}")
            for i, pk in enumerate(attendees)]
    if rows:
        rows.append(rows[len(rows) // 2])
    rows.append(("外单位来宾", "柳州市司法局", "9:02"))
    for number, row in enumerate(rows, start=1):
        writer.writerow([number, *row])
    return buffer.getvalue().encode("utf-8")


def _attend(event: TrainingEvent, plan: Plan, rng: random.Random, audience: list[int], people: People) -> None:
    chosen = [pk for pk in audience if rng.random() < plan.turnout]
    rest = [pk for pk in audience if pk not in set(chosen)]
    excused = [pk for pk in rest if rng.random() < 0.25]
    absent = [pk for pk in rest if pk not in set(excused) and plan.audience != Audience.DISTRICT and rng.random() < 0.5]
    late = [pk for pk in chosen if rng.random() < 0.06]
    present = [pk for pk in chosen if pk not in set(late)]
    day = event.date
    if plan.title == SHEET_LECTURE:
        attendance_import(event=event, data=_sheet(rng, chosen, people), file_name=f"签到表-{day:%Y%m%d}.csv")
    elif plan.source == AttendanceSource.QR:
        # scanned at the door over a quarter of an hour; the stragglers after the start are late
        for i, minute in enumerate((40, 45, 50, 55)):
            when = timezone.make_aware(dt.datetime.combine(day, dt.time(8, minute)))
            attendance_record(event=event, staff_ids=present[i::4], status=AttendanceStatus.PRESENT,
                              source=AttendanceSource.QR, signed_in_at=when)
        when = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 12)))
        attendance_record(event=event, staff_ids=late, status=AttendanceStatus.LATE, source=AttendanceSource.QR,
                          signed_in_at=when)
    else:
        attendance_record(event=event, staff_ids=present, status=AttendanceStatus.PRESENT, source=plan.source)
        attendance_record(event=event, staff_ids=late, status=AttendanceStatus.LATE, source=plan.source)
    attendance_record(event=event, staff_ids=excused, status=AttendanceStatus.EXCUSED, source=AttendanceSource.MANUAL)
    attendance_record(event=event, staff_ids=absent, status=AttendanceStatus.ABSENT, source=AttendanceSource.MANUAL)


def seed_demo(*, seed: int) -> str:
    if TrainingEvent.objects.exists():
        return "培训演示数据已存在，未重复生成。"
    people = _people()
    if not people.ids:
        return ""
    rng = random.Random(seed * 31 + 4)
    units = {u.code: u for u in Unit.objects.all()}
    today = timezone.localdate()
    created = 0
    for year in (today.year - 1, today.year):
        study_hours_requirement_set(year=year, hours=Decimal("40"), note="依法治区办年度学法要求")
        for plan in PLANS:
            day = dt.date(year, plan.month, plan.day)
            if day >= today:
                continue
            event = training_event_create(
                title=plan.title, kind=plan.kind, date=day, hours=plan.hours, organiser=units.get(plan.organiser),
                speaker=plan.speaker, location=plan.location, audience=plan.audience,
                audience_units=[units[c] for c in plan.units if c in units],
            )
            _attend(event, plan, rng, _audience(plan, people, units), people)
            created += 1

    # today's lecture: QR sign-in open from an hour ago until midnight, a few already in
    now = timezone.now()
    zone = timezone.get_current_timezone()
    live = training_event_create(
        title="法治讲座：行政复议与行政应诉实务", kind=TrainingKind.LECTURE, date=today, hours="2",
        organiser=units.get("LD12"), speaker="市司法局行政复议科", location="区行政中心报告厅",
        audience=Audience.DISTRICT, signin_opens_at=now - dt.timedelta(hours=1),
        signin_closes_at=timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min), zone),
    )
    early = rng.sample(people.ids, min(25, len(people.ids)))
    attendance_record(event=live, staff_ids=early, status=AttendanceStatus.PRESENT, source=AttendanceSource.QR,
                      signed_in_at=now - dt.timedelta(minutes=20))
    created += 1
    total = Attendance.objects.count()
    return f"培训演示数据：{created} 场培训活动（{today.year - 1}、{today.year} 年），{total} 条出勤记录；今日讲座的扫码签到已开放。"
