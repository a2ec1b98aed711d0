"""The printable sign-in sheet of an event (DOCX, A4): the event's title, date and place, the
expected people of a unit with a column to sign, and the QR code of the sign-in page.

An event whose code rotates (``signin_rotates``) gets no QR code on paper: a printed code
would be a fixed link that works from anywhere, which is what the rotation prevents. The sheet
says so, and people sign by hand or scan the code projected in the room."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

from roster.models import Staff, Unit

from .models import TrainingEvent, kind_label
from .qr import qr_png

HEADERS = ("序号", "工号", "姓名", "单位", "职务", "签名")
# column widths in millimetres (A4 less 15 mm margins: 180 mm)
WIDTHS_MM = (12, 24, 24, 56, 32, 32)
ROTATING_NOTE = "本活动签到二维码定时更换，纸质签到表不印二维码：请扫描会场投屏的二维码签到，或在本表签名。"


@dataclass(frozen=True)
class SheetRow:
    staff_no: str
    name: str
    unit_name: str
    position: str


def sheet_rows(people: Iterable[Staff]) -> list[SheetRow]:
    return [SheetRow(p.staff_no, p.name, p.unit.name, p.position) for p in people]


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def signin_sheet_docx(*, event: TrainingEvent, rows: list[SheetRow], unit: Unit | None,
                      signin_url: str | None) -> bytes:
    """The sheet as DOCX bytes. ``signin_url``: the static sign-in page to print as a QR code
    (None: no code, as for a rotating event)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(15)
    section.top_margin = section.bottom_margin = Mm(15)
    style = document.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(10.5)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(f"{event.title} 签到表")
    run.bold = True
    run.font.size = Pt(16)

    details = [f"日期：{event.date:%Y年%m月%d日}", f"类型：{kind_label(event.kind)}", f"学时：{event.hours.normalize():f}"]
    if event.location:
        details.append(f"地点：{event.location}")
    details.append(f"主办：{event.organiser.name if event.organiser else '全区'}")
    document.add_paragraph("　".join(details))
    document.add_paragraph(f"单位：{unit.name}（含下级单位）" if unit else "单位：全部")
    document.add_paragraph(f"应到 {len(rows)} 人　实到 ____ 人")

    if signin_url:
        picture = document.add_paragraph()
        picture.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        picture.add_run().add_picture(io.BytesIO(qr_png(signin_url)), width=Mm(30))
        caption = document.add_paragraph("扫码签到")
        caption.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    else:
        document.add_paragraph(ROTATING_NOTE)

    table = document.add_table(rows=1, cols=len(HEADERS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = table.rows[0]
    _repeat_header(header)
    for cell, text, width in zip(header.cells, HEADERS, WIDTHS_MM, strict=True):
        cell.text = text
        cell.width = Mm(width)
        cell.paragraphs[0].runs[0].bold = True
    for number, row in enumerate(rows, start=1):
        cells = table.add_row().cells
        for cell, text, width in zip(cells, (str(number), row.staff_no, row.name, row.unit_name, row.position, ""),
                                     WIDTHS_MM, strict=True):
            cell.text = text
            cell.width = Mm(width)
        table.rows[-1].height = Mm(9)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def signin_sheet_file_name(*, event: TrainingEvent, unit: Unit | None) -> str:
    return f"签到表-{event.pk}" + (f"-{unit.code}" if unit else "") + ".docx"
