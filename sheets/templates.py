"""Blank upload templates: one XLSX per import, with the headings that import reads, one
fictional sample row (its ID number masked), and the 工号, ID-number, phone and certificate-number columns formatted
as text as a whole (so Excel keeps leading zeros and all 18 digits of what is typed under them).

The headings are each column's label from the import's own schema (``roster.columns``,
``exams.columns``, ``training.columns``, ``certificates.columns``), a required one marked
「（必填）」, which every reader ignores when it matches headings. Written by ``sheets.writers``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .columns import Schema
from .writers import xlsx_bytes

# columns whose values are digits that Excel would turn into numbers
TEXT_FIELDS = frozenset({"staff_no", "id_number", "phone", "enforcement_cert", "number"})
REQUIRED_MARK = "（必填）"
CAPTION = "填写说明：第 3 行是示例，导入前请删除；标有（必填）的列必须填写；编号和证件号码列已设为文本格式，请勿改为数字。"


@dataclass(frozen=True)
class Template:
    kind: str
    title: str
    file_name: str


TEMPLATES: dict[str, Template] = {
    "roster": Template("roster", "人员名册", "名册导入模板.xlsx"),
    "results": Template("results", "考试成绩", "考试成绩导入模板.xlsx"),
    "exemptions": Template("exemptions", "免考名单", "免考名单导入模板.xlsx"),
    "attendance": Template("attendance", "签到表", "签到表导入模板.xlsx"),
    "certificates": Template("certificates", "执法证件", "执法证件导入模板.xlsx"),
}
TEMPLATE_KINDS = tuple(TEMPLATES)


def _sample_id_number() -> str:
    """A sample that shows the shape (18 characters) but is no ID number: no file the system
    hands out holds an unmasked one, not even a made-up one."""
    return "110105********1234"


def _schema_and_sample(kind: str) -> tuple[Schema, dict[str, object]]:
    person = {"staff_no": "000123", "name": "张三", "id_number": _sample_id_number(), "unit": "区司法局",
              "phone": "13800138000"}
    if kind == "roster":
        from roster.columns import ROSTER_SCHEMA

        return ROSTER_SCHEMA, {**person, "gender": "男", "position": "科员", "category": "公务员",
                               "is_head": "否", "enforcement_cert": "45020012345"}
    if kind == "results":
        from exams.columns import RESULT_SCHEMA

        return RESULT_SCHEMA, {**person, "score": 86.5, "taken_at": "2026-06-01 10:30"}
    if kind == "exemptions":
        from exams.columns import EXEMPTION_SCHEMA

        return EXEMPTION_SCHEMA, {**person, "reason": "长期病假"}
    if kind == "attendance":
        from training.columns import SIGNIN_SCHEMA

        return SIGNIN_SCHEMA, {**person, "status": "出席", "signed_in_at": "09:00"}
    if kind == "certificates":
        from certificates.columns import CERTIFICATE_SCHEMA

        return CERTIFICATE_SCHEMA, {**person, "number": "45020012345", "kind": "执法证", "issued_on": "2024-06-01",
                                    "expires_on": "2030-05-31", "status": "有效", "authority": "区人民政府"}
    raise KeyError(kind)


def template_headings(kind: str) -> list[str]:
    schema, _ = _schema_and_sample(kind)
    return [column.label + (REQUIRED_MARK if column.required else "") for column in schema.columns]


def template_xlsx(kind: str) -> bytes:
    """The blank template of one import (``TEMPLATE_KINDS``); KeyError for another kind."""
    template = TEMPLATES[kind]
    schema, sample = _schema_and_sample(kind)
    headings = template_headings(kind)
    text_columns = [i for i, column in enumerate(schema.columns) if column.field in TEXT_FIELDS]
    widths = [22 if column.field in ("id_number", "unit", "authority", "reason") else 14 for column in schema.columns]
    return xlsx_bytes(
        title=template.title, headers=headings, rows=[[sample.get(column.field, "") for column in schema.columns]],
        text_columns=text_columns, text_whole_columns=True, widths=widths, caption=CAPTION,
    )
