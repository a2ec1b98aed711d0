"""The annual report as xlsx, docx and png, opened and checked with the libraries that read
them."""

from __future__ import annotations

import io
import os

import pytest

from config.errors import DomainError
from reports import render
from reports.annual import annual_report_build, annual_report_render
from roster.models import Staff, Unit

pytestmark = pytest.mark.django_db

HOSTILE = {
    "A": '=HYPERLINK("http://evil.example","点我")',
    "B": "+86 司法局",
    "T": "-测试镇",
    "E": "@SUM(1,2)",
}


def cjk_font_available() -> bool:
    try:
        render.cjk_font_path()
    except DomainError:
        return False
    return True


needs_cjk_font = pytest.mark.skipif(
    not cjk_font_available() and not os.environ.get("CI_REQUIRE_BROWSER"),
    reason="缺少中文字体 fonts-wqy-microhei（文泉驿微米黑）；CI 会安装它，这里跳过图表检查",
)


@pytest.fixture
def report(district):
    for code, name in HOSTILE.items():
        Unit.objects.filter(code=code).update(name=name)
    return annual_report_build(year=district.year)


def _workbook(report):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(annual_report_render(report=report, format="xlsx")))


def test_the_workbook_has_one_sheet_per_table_with_chinese_headers_and_frozen_header_rows(report):
    workbook = _workbook(report)
    assert workbook.sheetnames == ["概况", "在册人员", "考试", "考试分单位", "考试分单位类型", "培训", "执法证"]
    headers = {name: [c.value for c in workbook[name][1]] for name in workbook.sheetnames}
    figures = ["考生", "免考", "应考", "实考", "未考", "合格", "不合格", "参考率", "合格率", "平均分"]
    assert headers["考试"] == ["考试名称", "考试类型", *figures]
    assert headers["考试分单位"] == ["考试名称", "单位代码", "单位名称", "单位类型", *figures]
    assert headers["考试分单位类型"] == ["考试名称", "单位类型", *figures]
    assert headers["在册人员"] == ["单位类型", "在册人数"] and headers["培训"] == ["项目", "数值"]
    assert all(workbook[name].freeze_panes == "A2" for name in workbook.sheetnames)
    overview = {row[0].value: row[1].value for row in workbook["概况"].iter_rows(min_row=2)}
    assert overview["在册人数"] == 9 and overview["情况综述"] == report["narrative"]
    training = {row[0].value: row[1].value for row in workbook["培训"].iter_rows(min_row=2)}
    assert training["参训人次"] == 7 and training["学时"] == 15 and training["单位正职旁听庭审（人次）"] == 1


def test_rates_are_numbers_formatted_as_percentages(report):
    sheet = _workbook(report)["考试"]
    header = [c.value for c in sheet[1]]
    rate = sheet.cell(row=2, column=header.index("参考率") + 1)
    assert rate.value == pytest.approx(8 / 9) and rate.number_format == "0.0%"
    assert sheet.cell(row=2, column=header.index("合格率") + 1).number_format == "0.0%"
    assert sheet.cell(row=2, column=header.index("平均分") + 1).number_format == "0.00"
    by_unit = _workbook(report)["考试分单位"]
    header = [c.value for c in by_unit[1]]
    rates = [row[header.index("参考率")] for row in by_unit.iter_rows(min_row=2)]
    assert rates and all(c.number_format == "0.0%" for c in rates if c.value is not None)


def test_text_that_looks_like_a_formula_is_written_as_text(report):
    sheet = _workbook(report)["考试分单位"]
    names = {row[2].value: row[2] for row in sheet.iter_rows(min_row=2)}
    for hostile in HOSTILE.values():
        cell = names[hostile]
        assert cell.data_type == "s" and cell.value == hostile and cell.quotePrefix
    assert not any(c.data_type == "f" for ws in _workbook(report) for row in ws.iter_rows() for c in row)


def test_no_id_number_appears_in_the_workbook(report, district):
    numbers = {p.id_number for p in district.people.values()}
    numbers |= set(Staff.objects.values_list("id_number_masked", flat=True))
    text = " ".join(str(c.value) for ws in _workbook(report) for row in ws.iter_rows() for c in row if c.value)
    assert not any(n in text for n in numbers)


@needs_cjk_font
def test_the_word_document_has_the_title_narrative_tables_chart_and_east_asian_fonts(report):
    from docx import Document
    from docx.oxml.ns import qn

    document = Document(io.BytesIO(annual_report_render(report=report, format="docx")))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == f"{report['year']}年度学法用法考试和法治培训情况"
    assert report["narrative"] in texts
    exam_table, training_table = document.tables
    assert [c.text for c in exam_table.rows[0].cells][:3] == ["单位", "类型", "实考"]
    assert [r.cells[0].text for r in exam_table.rows[1:]] == [*HOSTILE.values(), "合计"]
    assert [c.text for c in exam_table.rows[-1].cells][2:6] == ["8", "9", "7", "88.9%"]
    assert ("参训人次", "7") in [(r.cells[0].text, r.cells[1].text) for r in training_table.rows]
    assert len(document.inline_shapes) == 1

    normal = document.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "仿宋_GB2312"
    runs = list(document.element.body.iter(qn("w:r")))
    text_runs = [r for r in runs if r.find(qn("w:t")) is not None]
    assert text_runs and all(r.rPr is not None and r.rPr.rFonts.get(qn("w:eastAsia")) for r in text_runs)
    narrative_run = next(r for r in text_runs if r.find(qn("w:t")).text == report["narrative"])
    assert narrative_run.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    title_run = text_runs[0]
    assert title_run.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"


@needs_cjk_font
def test_the_chart_is_a_png_of_sensible_size(report):
    from PIL import Image

    data = annual_report_render(report=report, format="png")
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    width, height = image.size
    assert 800 <= width <= 3000 and 400 <= height <= 2000
    assert 10_000 < len(data) < 2_000_000
    # not blank: the bars and labels use many colours
    assert len(image.convert("RGB").getcolors(maxcolors=1_000_000)) > 50


def test_the_chart_refuses_with_a_chinese_message_when_the_cjk_font_is_missing(report, monkeypatch):
    monkeypatch.setattr(render, "CJK_FONT_FAMILIES", ("No Such Font",))
    monkeypatch.setattr(render, "CJK_FONT_FILES", ("/nonexistent/font.ttc",))
    with pytest.raises(DomainError) as caught:
        annual_report_render(report=report, format="png")
    assert "fonts-wqy-microhei" in caught.value.message and "中文字体" in caught.value.message
    assert caught.value.code == "unavailable"


def test_an_unknown_format_is_refused(report):
    with pytest.raises(DomainError):
        annual_report_render(report=report, format="pdf")


def test_the_word_document_is_a4_with_the_gbt_9704_margins_and_real_headings(report):
    from docx import Document
    from docx.oxml.ns import qn

    def mm(length) -> float:
        return round(length.mm, 1)  # stored in twips: 210 mm is 11906 twips

    document = Document(io.BytesIO(annual_report_render(report=report, format="docx")))
    for section in document.sections:
        assert (mm(section.page_width), mm(section.page_height)) == (210.0, 297.0)
        assert (mm(section.top_margin), mm(section.bottom_margin)) == (37.0, 35.0)
        assert (mm(section.left_margin), mm(section.right_margin)) == (28.0, 26.0)
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[0] == ("Heading 1", "一、总体情况")
    assert ("Heading 1", "二、学法用法考试分单位情况") in headings and ("Heading 1", "三、法治培训情况") in headings
    assert ("Heading 2", "（一）学法用法考试") in headings
    # nothing else is a heading: the section titles are not plain paragraphs any more
    assert not [p.text for p in document.paragraphs if p.text.startswith(("一、", "二、", "三、", "四、"))
                and not p.style.name.startswith("Heading")]
    for name, level, font in (("Heading 1", "0", "黑体"), ("Heading 2", "1", "楷体_GB2312")):
        style = document.styles[name]
        assert style.element.pPr.find(qn("w:outlineLvl")).get(qn("w:val")) == level
        fonts = style.element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == font
        # no theme font left to override the East Asian one
        assert fonts.get(qn("w:eastAsiaTheme")) is None and fonts.get(qn("w:asciiTheme")) is None
        heading_run = next(p for p in document.paragraphs if p.style.name == name).runs[0]
        assert heading_run.element.rPr.rFonts.get(qn("w:eastAsia")) == font
