"""The register file's columns, and the cells it carries: dates, kinds and statuses."""

from __future__ import annotations

import datetime as dt
import re

from sheets.columns import Column, Schema

from .models import CertificateKind, CertificateStatus

CERTIFICATE_SCHEMA = Schema(
    columns=(
        Column("name", "姓名", ("姓名", "持证人", "持证人姓名"), required=True),
        Column("id_number", "身份证号", ("身份证号", "身份证号码", "公民身份号码", "身份证")),
        Column("staff_no", "工号", ("工号", "人员编号", "职工号")),
        Column("unit", "所在单位", ("所在单位", "单位", "工作单位", "单位名称")),
        Column("number", "证件号", ("证件号", "证号", "执法证号", "证件编号", "执法证编号"), required=True),
        Column("kind", "证件类型", ("证件类型", "证件种类", "证件类别")),
        Column("issued_on", "发证日期", ("发证日期", "发证时间", "颁发日期"), required=True),
        Column("expires_on", "有效期至", ("有效期至", "有效期", "到期日期", "有效期截止", "截止日期"), required=True),
        Column("status", "状态", ("状态", "证件状态")),
        Column("authority", "发证机关", ("发证机关", "发证单位")),
    ),
    ignored=("序号", "备注"),
)

KIND_WORDS = {
    "执法证": CertificateKind.ENFORCEMENT, "行政执法证": CertificateKind.ENFORCEMENT,
    "enforcement": CertificateKind.ENFORCEMENT,
    "监督证": CertificateKind.SUPERVISION, "行政执法监督证": CertificateKind.SUPERVISION,
    "执法监督证": CertificateKind.SUPERVISION, "supervision": CertificateKind.SUPERVISION,
}
STATUS_WORDS = {
    "有效": CertificateStatus.ACTIVE, "正常": CertificateStatus.ACTIVE, "active": CertificateStatus.ACTIVE,
    "暂扣": CertificateStatus.SUSPENDED, "suspended": CertificateStatus.SUSPENDED,
    "吊销": CertificateStatus.REVOKED, "revoked": CertificateStatus.REVOKED,
    "注销": CertificateStatus.SURRENDERED, "surrendered": CertificateStatus.SURRENDERED,
}
MAX_NUMBER = 64
MAX_AUTHORITY = 200
_DAY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


class CellError(ValueError):
    """A cell that cannot be used; the message is in Chinese."""


def parse_day(text: str, *, label: str, numeric: bool = False) -> dt.date:
    """A date such as 2024-06-01, 2024/6/1 or 2024年6月1日; an Excel date cell or serial."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise CellError(f"{label}为空。")
    match = _DAY.match(cleaned)
    day: dt.date | None = None
    if match:
        try:
            day = dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            raise CellError(f"{label}不是有效的日期。")
    elif numeric and cleaned.isdigit() and 1 <= int(cleaned) < 2958466:
        day = _EXCEL_EPOCH + dt.timedelta(days=int(cleaned))
    if day is None:
        raise CellError(f"{label}无法识别：应为“年-月-日”，例如 2025-06-30。")
    if not 1950 <= day.year <= 2200:
        raise CellError(f"{label}的年份不合理。")
    return day


def parse_kind(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        return CertificateKind.ENFORCEMENT
    kind = KIND_WORDS.get(cleaned.lower())
    if kind is None:
        raise CellError("证件类型应为“执法证”或“监督证”。")
    return kind


def parse_status(text: str) -> str | None:
    """None for an empty cell (a new certificate is 有效; an existing one keeps its status)."""
    cleaned = text.strip()
    if not cleaned:
        return None
    status = STATUS_WORDS.get(cleaned.lower())
    if status is None:
        raise CellError("状态应为“有效”“暂扣”“吊销”或“注销”之一。")
    return status
