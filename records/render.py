"""Learning records as files: a person's record (xlsx, docx) and a unit's yearly learning file
(xlsx with the sheets 汇总 and 明细; docx with one page per person).

Both learning-file formats are written streaming, to a file object, a chunk of people at a
time: the xlsx through openpyxl's write-only workbook, the docx by writing the document's
body part into the zip entry as it goes (python-docx makes the styles and the page; it cannot
stream a body). Memory holds one chunk of people, not everyone.

Workbooks go through ``sheets.writers`` (the one writer): every cell is formula-safe (text
starting with = + - @, tab or CR is stored as text with Excel's quote prefix) and 工号 cells
are text.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import IO, Any
from xml.sax.saxutils import escape

from django.utils.translation import get_language

from config.text import strip_controls
from exams.models import ExamKind
from exams.selectors import EXEMPT, FAILED, NOT_SAT, PASSED
from reports.render import BODY_FONT, HEADING_FONT, LATIN_FONT, TITLE_FONT, east_asian_font
from sheets.writers import XlsxWriter
from training.models import AttendanceStatus
from training.models import kind_label as training_kind_name

from .selectors import FilePerson

STATUS_LABELS = {PASSED: "合格", FAILED: "不合格", NOT_SAT: "未参考", EXEMPT: "免考"}
# a candidate who left the roster before the exam closed without sitting: not expected, so
# not among the figures' 未参考 (Candidate.state_label says the same)
LEFT_LABEL = "截止前离册"
_ATTENDANCE = dict(AttendanceStatus.choices)
_EXAM_KINDS = dict(ExamKind.choices)


@lru_cache(maxsize=256)
def _label(choices: str, key: str, language: str | None) -> str:
    # the labels are lazy translations: made text once per language, not once per cell
    return str({"attendance": _ATTENDANCE, "exam": _EXAM_KINDS}[choices].get(key, key))


def attendance_label(status: str) -> str:
    return _label("attendance", status, get_language())


def training_kind_label(kind: str) -> str:
    # the kinds table's names (data, not translations)
    return training_kind_name(kind)


def exam_kind_label(kind: str) -> str:
    return _label("exam", kind, get_language())

SUMMARY_HEADERS = ["工号", "姓名", "单位", "学时", "应修学时", "差额"]
DETAIL_HEADERS = ["工号", "姓名", "日期", "活动", "类型", "学时", "出勤情况"]


def exam_result(exam: dict[str, Any]) -> str:
    """合格 / 不合格 / 未参考 / 免考, and the best score where there is one: "合格 86"."""
    if exam["status"] == NOT_SAT and not exam.get("expected", True):
        label = LEFT_LABEL
    else:
        label = STATUS_LABELS[exam["status"]]
    return label if exam["best_score"] is None else f"{label} {exam['best_score']}"


def _number(value: Any) -> str:
    return "" if value is None else str(value)


# --- xlsx ---------------------------------------------------------------------------------


def _detail_row(staff_no: str, name: str, attendance: dict[str, Any]) -> list[Any]:
    return [
        staff_no, name, dt.date.fromisoformat(attendance["date"]), attendance["title"],
        training_kind_label(attendance["kind"]), attendance["hours"], attendance_label(attendance["status"]),
    ]


def record_xlsx(record: dict[str, Any]) -> bytes:
    """A person's record: sheets 年度汇总 (one row a year), 培训记录 (one row an attendance) and
    考试记录 (one row an exam)."""
    book = XlsxWriter()
    years = book.sheet("年度汇总", ["工号", "姓名", "单位", "年度", "学时", "应修学时", "差额"],
                       widths=[12, 10, 28, 8, 8, 10, 8], text_columns=(0,))
    training = book.sheet("培训记录", ["年度", "日期", "活动", "类型", "单位（活动当日）", "学时", "出勤情况"],
                          widths=[8, 12, 36, 14, 28, 8, 10])
    exams = book.sheet("考试记录", ["年度", "考试", "类型", "结果", "最好成绩", "参考次数", "免考原因"],
                       widths=[8, 30, 16, 14, 10, 10, 24])
    staff_no, name = record["staff_no"], record["name"]
    for year in record["years"]:
        years.append([staff_no, name, record["unit_name"], year["year"], year["hours"], year["required_hours"],
                      year["missing_hours"]])
        for a in year["attendances"]:
            training.append([
                year["year"], dt.date.fromisoformat(a["date"]), a["title"], training_kind_label(a["kind"]),
                a["unit_name"], a["hours"], attendance_label(a["status"]),
            ])
        for e in year["exams"]:
            exams.append([
                year["year"], e["name"], exam_kind_label(e["kind"]), exam_result(e).split(" ")[0], e["best_score"],
                e["attempts"], e["exemption_reason"] or "",
            ])
    data = book.save()
    assert data is not None
    return data


def learning_file_xlsx(*, out: IO[bytes], exams: list[Any], entries: Iterable[tuple[FilePerson, dict[str, Any]]]) -> int:
    """The learning file as a workbook, written to ``out`` as the entries come: sheet 汇总 (one
    row a person: 工号, 姓名, 单位, 学时, 应修学时, 差额, then one column per exam of the year),
    sheet 明细 (one row an attendance record: 工号, 姓名, 日期, 活动, 类型, 学时, 出勤情况).
    Returns the number of people."""
    book = XlsxWriter()
    summary = book.sheet("汇总", [*SUMMARY_HEADERS, *(e.name for e in exams)],
                         widths=[12, 10, 28, 8, 10, 8, *([16] * len(exams))], text_columns=(0,))
    detail = book.sheet("明细", DETAIL_HEADERS, widths=[12, 10, 12, 36, 14, 8, 10], text_columns=(0,))
    people = 0
    for person, year in entries:
        people += 1
        results = {e["exam_id"]: exam_result(e) for e in year["exams"]}
        summary.append([
            person.staff_no, person.name, person.unit_name, year["hours"], year["required_hours"],
            year["missing_hours"], *(results.get(exam.pk, "") for exam in exams),
        ])
        for attendance in year["attendances"]:
            detail.append(_detail_row(person.staff_no, person.name, attendance))
    book.save(out)
    return people


# --- docx ---------------------------------------------------------------------------------

_PAGE_TWIPS = (11906, 16838)  # A4
_MARGIN_TWIPS = 1247  # 2.2 cm
_TEXT_WIDTH = _PAGE_TWIPS[0] - 2 * _MARGIN_TWIPS


def _text(value: Any) -> str:
    # control characters (a name pasted from elsewhere): dropped, not a broken file
    return escape(strip_controls(str(value)))


def _run(text: str, *, font: str = BODY_FONT, size: float = 14, bold: bool = False) -> str:
    latin = LATIN_FONT if font == BODY_FONT else font
    half_points = int(size * 2)
    return (
        f'<w:r><w:rPr><w:rFonts w:ascii="{latin}" w:hAnsi="{latin}" w:eastAsia="{font}"/>'
        f'{"<w:b/>" if bold else ""}<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr>'
        f'<w:t xml:space="preserve">{_text(text)}</w:t></w:r>'
    )


def _paragraph(text: str, *, font: str = BODY_FONT, size: float = 14, bold: bool = False, center: bool = False,
               page_break: bool = False, before: int = 0, after: int = 80) -> str:
    props = ("<w:pageBreakBefore/>" if page_break else "") + f'<w:spacing w:before="{before}" w:after="{after}"/>'
    props += '<w:jc w:val="center"/>' if center else ""
    return f"<w:p><w:pPr>{props}</w:pPr>{_run(text, font=font, size=size, bold=bold)}</w:p>"


def _table(headers: list[str], rows: list[list[Any]], widths: list[int]) -> str:
    scale = _TEXT_WIDTH / sum(widths)
    twips = [int(w * scale) for w in widths]
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in twips)

    def row(cells: list[Any], *, header: bool = False) -> str:
        out = ["<w:tr>" + ("<w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>" if header else "<w:trPr><w:cantSplit/></w:trPr>")]
        for value, width in zip(cells, twips, strict=True):
            out.append(
                f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>'
                f'<w:p><w:pPr><w:spacing w:before="0" w:after="0"/><w:jc w:val="center"/></w:pPr>'
                f'{_run(_number(value), size=10.5, bold=header)}</w:p></w:tc>'
            )
        return "".join(out) + "</w:tr>"

    return (
        '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/>'
        f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>"
        + row(headers, header=True) + "".join(row(r) for r in rows) + "</w:tbl>"
    )


def year_block(year: dict[str, Any], *, heading: str | None = None) -> str:
    """One year of a record: hours against the requirement, the attendances, the exams."""
    parts = [_paragraph(heading, font=HEADING_FONT, size=15, before=200)] if heading else []
    parts.append(_paragraph(
        f"学时：{year['hours']}　应修学时：{year['required_hours']}　差额：{year['missing_hours']}", size=12
    ))
    parts.append(_paragraph("培训情况", font=HEADING_FONT, size=12, before=120))
    if year["attendances"]:
        parts.append(_table(
            ["日期", "活动", "类型", "单位（活动当日）", "学时", "出勤情况"],
            [[a["date"], a["title"], training_kind_label(a["kind"]), a["unit_name"], a["hours"],
              attendance_label(a["status"])] for a in year["attendances"]],
            [11, 30, 12, 22, 7, 10],
        ))
    else:
        parts.append(_paragraph("本年度无出勤记录。", size=12))
    parts.append(_paragraph("考试情况", font=HEADING_FONT, size=12, before=120))
    if year["exams"]:
        parts.append(_table(
            ["考试", "类型", "结果", "最好成绩", "参考次数", "免考原因"],
            [[e["name"], exam_kind_label(e["kind"]), exam_result(e).split(" ")[0], e["best_score"],
              e["attempts"], e["exemption_reason"] or ""] for e in year["exams"]],
            [30, 14, 12, 10, 10, 20],
        ))
    else:
        parts.append(_paragraph("本年度无考试记录。", size=12))
    return "".join(parts)


def person_line(*, staff_no: str, name: str, unit_name: str, leaver: bool = False) -> str:
    # each value a run of its own: a search of the document finds the exact name or 工号
    runs = []
    for label, value in (("姓名：", name), ("　工号：", staff_no), ("　单位：", unit_name)):
        runs += [_run(label, size=12), _run(value, size=12)]
    if leaver:
        runs.append(_run("（已离册）", size=12))
    return f'<w:p><w:pPr><w:spacing w:before="0" w:after="120"/></w:pPr>{"".join(runs)}</w:p>'


def record_docx_body(record: dict[str, Any]) -> str:
    parts = [
        _paragraph("个人学法档案", font=TITLE_FONT, size=20, center=True, after=200),
        person_line(staff_no=record["staff_no"], name=record["name"], unit_name=record["unit_name"],
                    leaver=not record["is_active"]),
    ]
    for year in record["years"]:
        parts.append(year_block(year, heading=f"{year['year']}年度"))
    if not record["years"]:
        parts.append(_paragraph("暂无培训和考试记录。", size=12))
    return "".join(parts)


def _skeleton() -> tuple[bytes, str, str]:
    """An empty A4 document made by python-docx (its styles, fonts and page), and its body
    part cut where the content goes: (the docx, what comes before, what comes after)."""
    from docx import Document
    from docx.shared import Pt, Twips

    document = Document()
    normal = document.styles["Normal"]
    east_asian_font(normal, BODY_FONT)
    normal.font.size = Pt(12)
    east_asian_font(document.styles["Table Grid"], BODY_FONT)
    section = document.sections[0]
    section.page_width, section.page_height = Twips(_PAGE_TWIPS[0]), Twips(_PAGE_TWIPS[1])
    section.left_margin = section.right_margin = Twips(_MARGIN_TWIPS)
    section.top_margin = section.bottom_margin = Twips(_MARGIN_TWIPS)
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        body = archive.read("word/document.xml").decode("utf-8")
    cut = body.index("<w:sectPr")
    return buffer.getvalue(), body[:cut], body[cut:]


def docx_write(*, out: IO[bytes], fragments: Iterable[str]) -> None:
    """A docx whose body is ``fragments`` (WordprocessingML), written into the zip entry as
    they come: only one fragment is in memory at a time."""
    data, before, after = _skeleton()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                target.writestr(info, source.read(info.filename))
                continue
            with target.open("word/document.xml", "w", force_zip64=True) as part:
                part.write(before.encode("utf-8"))
                for fragment in fragments:
                    part.write(fragment.encode("utf-8"))
                # Word wants a paragraph, not a table, to end the body
                part.write(b"<w:p/>" + after.encode("utf-8"))


def record_docx(record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    docx_write(out=buffer, fragments=[record_docx_body(record)])
    return buffer.getvalue()


def learning_file_pages(*, unit_name: str, year: int,
                        entries: Iterable[tuple[FilePerson, dict[str, Any]]]) -> Iterator[str]:
    """One page per person: a heading naming the unit and the year, the person, their year."""
    title = f"{unit_name}{year}年度学法档案"
    n = 0
    for n, (person, entry) in enumerate(entries, start=1):
        yield (
            _paragraph(title, font=TITLE_FONT, size=18, center=True, page_break=n > 1, after=200)
            + person_line(staff_no=person.staff_no, name=person.name, unit_name=person.unit_name)
            + year_block(entry)
        )
    if n == 0:
        yield _paragraph(title, font=TITLE_FONT, size=18, center=True, after=200) + _paragraph("本年度无在册人员。", size=12)


def learning_file_docx(*, out: IO[bytes], unit_name: str, year: int,
                       entries: Iterable[tuple[FilePerson, dict[str, Any]]]) -> int:
    """The learning file as a Word document written to ``out``; returns the number of people."""
    counted = 0

    def counting() -> Iterator[tuple[FilePerson, dict[str, Any]]]:
        nonlocal counted
        for item in entries:
            counted += 1
            yield item

    docx_write(out=out, fragments=learning_file_pages(unit_name=unit_name, year=year, entries=counting()))
    return counted
