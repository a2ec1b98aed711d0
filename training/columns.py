"""The header aliases sign-in sheets use, and how their status and time cells are read."""

from __future__ import annotations

import datetime as dt
import re

from sheets.columns import Column, Schema

from .models import AttendanceStatus

SIGNIN_SCHEMA = Schema(
    columns=(
        Column("name", "姓名", ("姓名", "签名", "签到人", "名字"), required=True),
        Column("unit", "单位", ("单位", "所在单位", "工作单位", "单位名称", "部门", "单位代码")),
        Column("staff_no", "工号", ("工号", "人员编号", "编号")),
        Column("id_number", "身份证号", ("身份证号", "身份证号码", "公民身份号码", "身份证")),
        Column("phone", "手机号", ("手机号", "手机号码", "联系电话", "电话", "手机")),
        Column("status", "出勤情况", ("出勤情况", "出勤", "状态", "签到情况")),
        Column("signed_in_at", "签到时间", ("签到时间", "时间", "到场时间")),
    ),
    ignored=("序号", "职务", "备注", "性别"),
)

# the fields any one of which lets a row be matched (name only together with unit)
KEY_FIELDS = ("staff_no", "id_number", "phone")

STATUS_WORDS: dict[str, str] = {
    "": AttendanceStatus.PRESENT,
    "出席": AttendanceStatus.PRESENT,
    "参加": AttendanceStatus.PRESENT,
    "已签到": AttendanceStatus.PRESENT,
    "签到": AttendanceStatus.PRESENT,
    "到": AttendanceStatus.PRESENT,
    "已到": AttendanceStatus.PRESENT,
    "实到": AttendanceStatus.PRESENT,
    "√": AttendanceStatus.PRESENT,
    "✓": AttendanceStatus.PRESENT,
    "是": AttendanceStatus.PRESENT,
    "present": AttendanceStatus.PRESENT,
    "迟到": AttendanceStatus.LATE,
    "late": AttendanceStatus.LATE,
    "请假": AttendanceStatus.EXCUSED,
    "假": AttendanceStatus.EXCUSED,
    "公假": AttendanceStatus.EXCUSED,
    "病假": AttendanceStatus.EXCUSED,
    "事假": AttendanceStatus.EXCUSED,
    "excused": AttendanceStatus.EXCUSED,
    "缺席": AttendanceStatus.ABSENT,
    "缺勤": AttendanceStatus.ABSENT,
    "未到": AttendanceStatus.ABSENT,
    "未参加": AttendanceStatus.ABSENT,
    "×": AttendanceStatus.ABSENT,
    "否": AttendanceStatus.ABSENT,
    "absent": AttendanceStatus.ABSENT,
}

STATUS_HELP = "应为 出席、迟到、请假 或 缺席（留空视为出席）。"


def parse_status(text: str) -> str | None:
    """The status a cell means, or None when it means nothing we know."""
    key = re.sub(r"\s", "", text).lower()
    return STATUS_WORDS.get(key)


_TIME_ONLY = re.compile(r"^(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}))?秒?$")
_DATE_TIME = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2})[:：](\d{1,2})(?::(\d{1,2}))?)?$")


def parse_signed_in_at(text: str, *, on: dt.date) -> dt.datetime | None | bool:
    """A naive local datetime for a sign-in time cell; ``None`` for an empty cell; ``False``
    when the cell cannot be read. A bare time is taken on the event's date."""
    text = text.strip()
    if not text:
        return None
    try:
        match = _TIME_ONLY.match(text)
        if match:
            hour, minute, second = (int(g) if g else 0 for g in match.groups())
            return dt.datetime.combine(on, dt.time(hour, minute, second))
        match = _DATE_TIME.match(text)
        if match:
            year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
            if not 2000 <= year <= 2100:
                # a typo such as 0001: no sign-in then, and not a time the database can store
                return False
            return dt.datetime(year, month, day, hour, minute, second)
        # Excel stores a bare time as a fraction of a day
        fraction = float(text)
        if 0 <= fraction < 1:
            seconds = round(fraction * 86400)
            return dt.datetime.combine(on, dt.time(seconds // 3600, seconds % 3600 // 60, seconds % 60))
    except ValueError:
        return False
    return False
