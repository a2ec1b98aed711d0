"""The annual report as a file: JSON, an Excel workbook, a Word document, a PNG chart.

- xlsx: one sheet per table, Chinese headers, the header row frozen, rates formatted as
  percentages; no ID numbers; written by ``sheets.writers`` (the one writer), so any text
  starting with = + - @, tab or CR is stored as text, never as a formula.
- docx: a government-report section (title, the paragraph, the per-unit exam tables, the
  training table, the chart) on A4 with the GB/T 9704 margins, with East Asian fonts
  (``w:eastAsia``) set on the styles and on every run: 仿宋_GB2312 for the body, 方正小标宋简体
  for the title, 黑体 and 楷体_GB2312 for the headings, which use Word's Heading 1 and Heading 2
  styles (outline levels: the navigation pane and a table of contents find them).
- png: participation and pass rates by top-level unit, drawn with matplotlib's Agg backend
  and a CJK font (WenQuanYi Micro Hei, Debian package ``fonts-wqy-microhei``).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from config.errors import DomainError
from config.text import strip_controls, strip_controls_deep
from exams.models import ExamKind
from roster.models import UnitKind
from sheets.writers import XlsxWriter
from training.models import TrainingKind

# --- labels -----------------------------------------------------------------------------

FIGURE_COLUMNS = (
    ("candidates", "考生"),
    ("exempt", "免考"),
    ("expected", "应考"),
    ("sat", "实考"),
    ("not_sat", "未考"),
    ("passed", "合格"),
    ("failed", "不合格"),
    ("participation_rate", "参考率"),
    ("pass_rate", "合格率"),
    ("average_score", "平均分"),
)
RATES = ("participation_rate", "pass_rate")
TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
BODY_FONT = "仿宋_GB2312"
LATIN_FONT = "Times New Roman"
CJK_FONT_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC")
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
MISSING_FONT = (
    "无法生成图表：缺少中文字体“文泉驿微米黑”（WenQuanYi Micro Hei）。"
    "请先安装字体包 fonts-wqy-microhei（Debian/Ubuntu：apt-get install fonts-wqy-microhei），再重新生成。"
)


def unit_kind_label(kind: str) -> str:
    return str(dict(UnitKind.choices).get(kind, kind))


def exam_kind_label(kind: str) -> str:
    return str(dict(ExamKind.choices).get(kind, kind))


def training_kind_label(kind: str) -> str:
    return str(dict(TrainingKind.choices).get(kind, kind))


_KIND_ORDER = {kind: i for i, kind in enumerate(TrainingKind.values)}


def scope_prefix(report: dict[str, Any]) -> str:
    """A subtree's report names its unit before the title; the district's report does not."""
    unit = report.get("unit")
    return unit["name"] if unit else ""


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals (the （一）（二） of second-level headings)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return f"{digits[tens] if tens > 1 else ''}十{digits[ones] if ones else ''}"


def chinese_date(iso: str) -> str:
    """"2024-12-31" -> "2024年12月31日"."""
    year, month, day = (int(part) for part in iso.split("-"))
    return f"{year}年{month}月{day}日"


def render(*, report: dict[str, Any], format: str) -> bytes:
    renderers = {"json": render_json, "xlsx": render_xlsx, "docx": render_docx, "png": render_png}
    if format not in renderers:
        raise DomainError(f"格式“{format}”无效，应为 {'、'.join(renderers)} 之一。")
    # text stored before control characters were refused renders without them, in every format
    return renderers[format](strip_controls_deep(report))


def render_json(report: dict[str, Any]) -> bytes:
    return json.dumps(report, ensure_ascii=False, indent=2, default=str).encode("utf-8")


# --- tables shared by xlsx and docx -----------------------------------------------------


def _figures(entry: dict[str, Any]) -> list[Any]:
    return [entry.get(key) for key, _ in FIGURE_COLUMNS]


def makeup_label(exam: dict[str, Any]) -> str:
    """The make-up's name as a row beside its main exam's."""
    return f"{exam['makeup']['name']}（{exam['name']}的补考，已计入该考试）"


def makeup_note(exam: dict[str, Any]) -> str:
    """The Word report's sentence under a main exam's table."""
    m = exam["makeup"]
    return (
        f"表中数字已计入补考“{m['name']}”：参加主考试或补考之一即计为实考，通过其一即计为合格，应考为主考试的应考。"
        f"补考自身应考{m['expected']}人，实考{m['sat']}人，合格{m['passed']}人。"
    )


def chart_exam(report: dict[str, Any]) -> dict[str, Any] | None:
    """The exam the chart and the Word tables lead with: the first law exam, else the first."""
    exams = report.get("exams") or []
    law = [e for e in exams if e["kind"] == ExamKind.ANNUAL_LAW]
    return (law or exams or [None])[0]


def training_rows(report: dict[str, Any]) -> list[tuple[str, Any]]:
    training = report["training"]
    court = training.get("court_observation") or {}
    return [
        ("培训活动（场）", training.get("events", 0)),
        *[(f"其中：{training_kind_label(kind)}", n) for kind, n in sorted(
            (training.get("by_kind") or {}).items(), key=lambda item: _KIND_ORDER.get(item[0], len(_KIND_ORDER))
        )],
        ("参训人次", training.get("attendances", 0)),
        ("参训人数", training.get("staff_trained", 0)),
        ("学时", training.get("person_hours", 0)),
        ("旁听庭审（场）", court.get("events", 0)),
        ("单位正职旁听庭审（人次）", court.get("head_attendances", 0)),
    ]


# --- xlsx -------------------------------------------------------------------------------

def _table(book: XlsxWriter, title: str, headers: list[str], rows: list[list[Any]], *,
           formats: dict[int, str] | None = None, widths: dict[int, int] | None = None,
           wrap_columns: tuple[int, ...] = ()) -> None:
    """One sheet through the one writer (formula-safe, control characters dropped); columns
    in ``formats`` and ``widths`` count from 1."""
    book.sheet(
        title, headers, header_fill="DDEBF7", wrap_columns=wrap_columns,
        formats={column - 1: fmt for column, fmt in (formats or {}).items()},
        widths=[(widths or {}).get(column) or max(8, min(40, 2 * len(str(header)) + 4))
                for column, header in enumerate(headers, start=1)],
    ).extend(rows)


def _figure_formats(offset: int) -> dict[int, str]:
    formats = {}
    for i, (key, _) in enumerate(FIGURE_COLUMNS, start=offset + 1):
        formats[i] = "0.0%" if key in RATES else "0.00" if key == "average_score" else "0"
    return formats


def render_xlsx(report: dict[str, Any]) -> bytes:
    book = XlsxWriter()
    year = report["year"]
    staff = report["staff"]
    _table(
        book, "概况", ["项目", "内容"],
        [["年度", year], ["在册人数", staff["active"]], ["人数截至", staff["as_of"]], ["情况综述", report["narrative"]]]
        + ([["统计范围", f"{report['unit']['name']}及其下属单位"]] if report.get("unit") else []),
        widths={1: 14, 2: 100}, wrap_columns=(1,),
    )
    _table(
        book, "在册人员", ["单位类型", "在册人数"],
        [[unit_kind_label(k), n] for k, n in staff["by_unit_kind"].items()] + [["合计", staff["active"]]],
        widths={1: 16, 2: 12},
    )
    labels = [label for _, label in FIGURE_COLUMNS]
    exams = report["exams"]
    _table(
        book, "考试", ["考试名称", "考试类型", *labels],
        [row for e in exams for row in (
            [[e["name"], exam_kind_label(e["kind"]), *_figures(e)]]
            + ([[makeup_label(e), exam_kind_label(e["kind"]), *_figures(e["makeup"])]] if e.get("makeup") else [])
        )],
        formats=_figure_formats(2), widths={1: 30, 2: 16},
    )
    _table(
        book, "考试分单位", ["考试名称", "单位代码", "单位名称", "单位类型", *labels],
        [[name, u["unit_code"], u["unit_name"], unit_kind_label(u["kind"]), *_figures(u)]
         for e in exams for name, entry in [(e["name"], e), *([(makeup_label(e), e["makeup"])] if e.get("makeup") else [])]
         for u in entry["by_unit"]],
        formats=_figure_formats(4), widths={1: 30, 2: 10, 3: 28, 4: 12},
    )
    _table(
        book, "考试分单位类型", ["考试名称", "单位类型", *labels],
        [[e["name"], unit_kind_label(kind), *_figures(f)] for e in exams for kind, f in e["by_unit_kind"].items()],
        formats=_figure_formats(2), widths={1: 30, 2: 12},
    )
    _table(book, "培训", ["项目", "数值"], [list(row) for row in training_rows(report)], widths={1: 28, 2: 12})
    certificates = report.get("certificates")
    if certificates is not None:
        _table(book, "执法证", ["项目", "数值"], [
            ["持证人数", certificates.get("holders", 0)], ["本年度续期（张）", certificates.get("renewed", 0)],
            ["已过期（张）", certificates.get("expired", 0)], ["待续期（张）", certificates.get("due", 0)],
        ], widths={1: 20, 2: 12})
    data = book.save()
    assert data is not None
    return data


# --- docx -------------------------------------------------------------------------------


def east_asian_font(target: Any, name: str) -> None:
    """Set the Latin and the East Asian font on a run or a style (``w:rFonts w:eastAsia``)."""
    from docx.oxml.ns import qn

    target.font.name = LATIN_FONT if name == BODY_FONT else name
    fonts = target._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)
    # a theme font (the template's headings have them) would win over the names set here
    for theme in ("w:asciiTheme", "w:eastAsiaTheme", "w:hAnsiTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)


# GB/T 9704-2012 (党政机关公文格式): A4, top 37 mm, bottom 35 mm, left 28 mm, right 26 mm
PAGE_MM = (210, 297)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
HEADING_STYLES = ("Heading 1", "Heading 2")


def _page_setup(document: Any) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    for section in document.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
        section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])


def _heading_styles(document: Any) -> None:
    """Headings are Word's own heading styles (outline levels 1 and 2: the navigation pane and
    a table of contents find them), in 黑体 (level 1) and 楷体 (level 2), 三号, black."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    for level, (name, font) in enumerate(zip(HEADING_STYLES, (HEADING_FONT, SUBHEADING_FONT), strict=True)):
        style = document.styles[name]
        east_asian_font(style, font)
        style.font.size = Pt(16)
        style.font.bold = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(0)
        style.paragraph_format.space_after = Pt(0)
        style.paragraph_format.line_spacing = Pt(28)
        style.paragraph_format.first_line_indent = Pt(32)
        p_pr = style.element.get_or_add_pPr()
        outline = p_pr.find(qn("w:outlineLvl"))
        if outline is None:
            outline = OxmlElement("w:outlineLvl")
            p_pr.append(outline)
        outline.set(qn("w:val"), str(level))


def _run(paragraph: Any, text: str, *, font: str = BODY_FONT, size: float | None = None, bold: bool = False) -> Any:
    from docx.shared import Pt

    # a name holding a control character stored before they were refused: dropped, not a 500
    run = paragraph.add_run(strip_controls(text))
    east_asian_font(run, font)
    if size:
        run.font.size = Pt(size)
    run.font.bold = bold
    return run


def _cell_text(cell: Any, text: str, *, bold: bool = False, center: bool = True) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.first_line_indent = 0
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(paragraph, text, size=10.5, bold=bold)


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key in RATES:
        return f"{value * 100:.1f}%"
    if key == "average_score":
        return f"{value:.2f}"
    return str(value)


def render_docx(report: dict[str, Any]) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    document = Document()
    normal = document.styles["Normal"]
    east_asian_font(normal, BODY_FONT)
    normal.font.size = Pt(16)
    for style_name in ("Title", "Table Grid"):
        if style_name in [s.name for s in document.styles]:
            east_asian_font(document.styles[style_name], TITLE_FONT if style_name == "Title" else BODY_FONT)
    _heading_styles(document)
    _page_setup(document)

    year = report["year"]
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, f"{scope_prefix(report)}{year}年度学法用法考试和法治培训情况", font=TITLE_FONT, size=22)

    def heading(text: str, level: int = 1) -> None:
        paragraph = document.add_paragraph(style=HEADING_STYLES[level - 1])
        _run(paragraph, text, font=HEADING_FONT if level == 1 else SUBHEADING_FONT, size=16)

    def body(text: str) -> None:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.first_line_indent = Pt(32)
        paragraph.paragraph_format.line_spacing = Pt(28)
        _run(paragraph, text, size=16)

    heading("一、总体情况")
    body(report["narrative"])
    staff = report["staff"]
    body(f"截至{chinese_date(staff['as_of'])}，在册人员{staff['active']}人。")

    heading("二、学法用法考试分单位情况")
    shown = ("sat", "expected", "passed", "participation_rate", "pass_rate", "average_score")
    labels = dict(FIGURE_COLUMNS)
    for number, exam in enumerate(report["exams"] or [], start=1):
        heading(f"（{chinese_number(number)}）{exam['name']}", level=2)
        caption = document.add_paragraph()
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(caption, f"表{number}  {report['year']}年{exam['name']}各单位情况", font=HEADING_FONT, size=12)
        table = document.add_table(rows=1, cols=2 + len(shown))
        table.style = "Table Grid"
        for i, text in enumerate(["单位", "类型", *[labels[k] for k in shown]]):
            _cell_text(table.rows[0].cells[i], text, bold=True)
        for entry in [*exam["by_unit"], {"unit_name": "合计", "kind": "", **{k: exam[k] for k in shown}}]:
            cells = table.add_row().cells
            _cell_text(cells[0], entry["unit_name"], center=False)
            _cell_text(cells[1], unit_kind_label(entry["kind"]) if entry["kind"] else "")
            for i, key in enumerate(shown, start=2):
                _cell_text(cells[i], _fmt(key, entry.get(key)))
        if exam.get("makeup"):
            body(makeup_note(exam))
    if not report["exams"]:
        body("本年度无考试记录。")

    heading("三、法治培训情况")
    table = document.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    _cell_text(table.rows[0].cells[0], "项目", bold=True)
    _cell_text(table.rows[0].cells[1], "数值", bold=True)
    for label, value in training_rows(report):
        cells = table.add_row().cells
        _cell_text(cells[0], label, center=False)
        _cell_text(cells[1], str(value))

    if chart_exam(report) is not None:
        heading("四、各单位参考率和合格率")
        document.add_picture(io.BytesIO(render_png(report)), width=Cm(15.5))
        document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- png --------------------------------------------------------------------------------


def cjk_font_path() -> str:
    """The CJK font file the chart draws with, found through matplotlib's font manager (and
    registered from its Debian path when matplotlib's font cache predates it)."""
    from matplotlib import font_manager

    for family in CJK_FONT_FAMILIES:
        for entry in font_manager.fontManager.ttflist:
            if entry.name == family:
                return entry.fname
    for path in CJK_FONT_FILES:
        if Path(path).is_file():
            font_manager.fontManager.addfont(path)
            return path
    # the server lacks something, the request is fine: "unavailable" (HTTP 503), not a 4xx
    raise DomainError(MISSING_FONT, code="unavailable")


def axis_floor(rates: Iterable[float | None]) -> float:
    """Where a rate chart's axis starts, as a fraction: 0, unless every rate is high, when it is
    the tens of per cent just below the lowest (93%–100% bars start at 90%, so that they differ
    to the eye). The chart labels its axis, so the cut is never hidden."""
    known = [float(r) for r in rates if r is not None]
    if not known:
        return 0.0
    lowest = min(known) * 100
    floor = math.floor((lowest - 2) / 10) * 10
    return floor / 100 if floor >= 50 else 0.0


def render_png(report: dict[str, Any]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import PercentFormatter

    font = FontProperties(fname=cjk_font_path())
    exam = chart_exam(report)
    figure = Figure(figsize=(11, 6), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    year = report["year"]
    if exam is None or not exam["by_unit"]:
        axes.text(0.5, 0.5, f"{year}年度无考试数据", ha="center", va="center", fontproperties=font, fontsize=16)
        axes.set_axis_off()
    else:
        units = exam["by_unit"]
        positions = list(range(len(units)))
        width = 0.4
        participation = [(u["participation_rate"] or 0) * 100 for u in units]
        passing = [(u["pass_rate"] or 0) * 100 for u in units]
        axes.bar([p - width / 2 for p in positions], participation, width, label="参考率", color="#2F5597")
        axes.bar([p + width / 2 for p in positions], passing, width, label="合格率", color="#C55A11")
        axes.set_xticks(positions)
        axes.set_xticklabels([u["unit_name"] for u in units], rotation=45 if len(units) > 6 else 0, ha="right"
                             if len(units) > 6 else "center", fontproperties=font, fontsize=8 if len(units) > 12 else 10)
        floor = round(axis_floor(u[key] for u in units for key in ("participation_rate", "pass_rate")) * 100)
        axes.set_ylim(floor, 100 + (100 - floor) * 0.18)  # headroom for the legend
        axes.set_yticks(range(floor, 101, 20 if floor == 0 else (10 if floor <= 60 else 5)))
        axes.yaxis.set_major_formatter(PercentFormatter(100))
        axes.set_ylabel("比例", fontproperties=font)
        axes.set_title(f"{scope_prefix(report)}{year}年{exam['name']}各单位参考率和合格率", fontproperties=font,
                       fontsize=14)
        axes.legend(prop=font, loc="upper center", ncol=2, frameon=False)
        axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
