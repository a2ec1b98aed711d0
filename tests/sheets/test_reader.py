from __future__ import annotations

import io
import struct
import zipfile

import pytest

from sheets.columns import Column, Schema
from sheets.reader import SheetError, read_table
from tests.helpers import csv_bytes, xlsx_bytes

SCHEMA = Schema(
    columns=(
        Column("staff_no", "工号", ("工号", "人员编号", "编号"), required=True),
        Column("name", "姓名", ("姓名",), required=True),
        Column("id_number", "身份证号", ("身份证号", "身份证号码", "公民身份号码"), required=True),
        Column("phone", "手机号", ("手机号", "联系电话")),
    )
)
HEADER = ["工号", "姓名", "身份证号", "手机号"]
ROW = ["001", "张三", "45020319900101123X", "13800000001"]


def read(data: bytes, name: str = "f.csv"):
    return read_table(data, filename=name, schema=SCHEMA)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encoding_is_detected_from_content(encoding):
    table = read(csv_bytes([ROW], header=HEADER, encoding=encoding), name="no-hint.txt")
    assert table.value(table.rows[0], "name") == "张三"


def test_title_rows_are_skipped_and_row_numbers_are_those_excel_shows():
    data = csv_bytes([ROW, ["002", "李四", "x", ""]], header=HEADER, title_rows=["2024年人员名册", "制表单位：人事科"])
    table = read(data)
    assert table.header_row == 3
    assert [r.number for r in table.rows] == [4, 5]


def test_blank_rows_keep_the_row_numbering():
    data = "工号,姓名,身份证号\n001,张三,1\n,,\n003,王五,2\n".encode()
    table = read(data)
    assert [r.number for r in table.rows] == [2, 4]


def test_aliases_and_english_names_map_to_fields():
    data = csv_bytes([["001", "张三", "x"]], header=["人员编号", "name", "公民身份号码"])
    table = read(data)
    assert table.fields == ["staff_no", "name", "id_number"]
    assert table.label("staff_no") == "人员编号"


def test_unknown_columns_are_ignored_with_a_warning_but_serial_number_silently():
    data = csv_bytes([["1", "001", "张三", "x", "备注"]], header=["序号", "工号", "姓名", "身份证号", "备注"])
    table = read(data)
    assert any("备注" in w for w in table.warnings)
    assert not any("序号" in w for w in table.warnings)


def test_full_width_digits_and_letters_become_half_width_and_spaces_are_stripped():
    data = csv_bytes([["００１", "  张三 ", "４５０２０３１９９００１０１１２３Ｘ"]], header=["工号", "姓名", "身份证号"])
    row = read(data).rows[0]
    assert row.values[:3] == ("001", "张三", "45020319900101123X")


def test_excel_cells_are_made_half_width_and_stripped_whether_the_row_is_all_text_or_mixed():
    rows = [["００１", "  张三 ", "４５０２０３１９９００１０１１２３Ｘ"], ["002", "李四", "450203199001011234"],
            [3, " 王五", "４５０２０３１９９００１０１１２３Ｘ"]]
    table = read(xlsx_bytes(rows, header=["工号", "姓名", "身份证号"]), name="t.xlsx")
    assert [row.values[:3] for row in table.rows] == [
        ("001", "张三", "45020319900101123X"), ("002", "李四", "450203199001011234"), ("3", "王五", "45020319900101123X")]
    assert [row.numeric for row in table.rows] == [0, 0, 1]


def test_full_width_comma_inside_a_cell_is_not_a_delimiter():
    data = csv_bytes([["001", "张三，李四", "x"]], header=["工号", "姓名", "身份证号"])
    table = read(data)
    assert table.value(table.rows[0], "name") == "张三，李四"


def test_missing_required_column_is_named():
    data = csv_bytes([["001", "张三"]], header=["工号", "姓名"])
    with pytest.raises(SheetError) as caught:
        read(data)
    assert "身份证号" in caught.value.message
    assert caught.value.problems[0].row is None
    assert caught.value.problems[0].column == "身份证号"


def test_empty_file_is_refused():
    with pytest.raises(SheetError, match="文件为空"):
        read(b"")


def test_header_without_data_rows_is_refused():
    with pytest.raises(SheetError, match="没有数据行"):
        read(csv_bytes([], header=HEADER))


def test_random_bytes_named_xlsx_are_refused():
    with pytest.raises(SheetError, match="不是有效的 Excel"):
        read(bytes(range(256)) * 10, name="roster.xlsx")


def test_binary_file_is_neither_csv_nor_xlsx():
    with pytest.raises(SheetError, match="只接受 CSV 或 XLSX"):
        read(b"\x00\x01\x02binary" * 100, name="roster.csv")


def test_old_xls_gets_a_save_as_hint():
    with pytest.raises(SheetError, match=r"\.xls"):
        read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, name="roster.xls")


def test_size_cap(settings):
    settings.SHEETS_MAX_BYTES = 100
    with pytest.raises(SheetError, match="大小上限"):
        read(csv_bytes([ROW] * 10, header=HEADER))


def test_row_cap(settings):
    settings.SHEETS_MAX_ROWS = 3
    with pytest.raises(SheetError, match="行数上限"):
        read(csv_bytes([ROW] * 5, header=HEADER))


def test_xlsx_marks_cells_excel_stored_as_numbers():
    data = xlsx_bytes([[1001, "张三", 450203199001011234, 13800000001], ["002", "李四", "45020319900101123X", ""]],
                      header=HEADER, title_rows=["标题"])
    table = read(data, name="r.xlsx")
    first, second = table.rows
    assert first.number == 3
    assert table.value(first, "staff_no") == "1001"
    assert table.is_numeric(first, "id_number")
    assert table.value(first, "phone") == "13800000001"
    assert not table.is_numeric(second, "id_number")
    assert table.value(second, "id_number") == "45020319900101123X"


def test_xlsx_reads_the_first_sheet_with_a_header_and_warns_about_others():
    data = xlsx_bytes([ROW], header=HEADER, sheets_before=[("说明", [["本表为人员名册"], ["请勿修改表头"]])])
    table = read(data, name="r.xlsx")
    assert table.sheet_name == "名册"
    assert any("说明" in w for w in table.warnings)


def _patch_declared_size(data: bytes, member: str, size: int) -> bytes:
    """Rewrite the central directory so that ``member`` claims ``size`` uncompressed bytes."""
    buffer = bytearray(data)
    name = member.encode()
    start = 0
    while (start := buffer.find(b"PK\x01\x02", start)) != -1:
        name_length = struct.unpack_from("<H", buffer, start + 28)[0]
        if bytes(buffer[start + 46 : start + 46 + name_length]) == name:
            struct.pack_into("<I", buffer, start + 24, size)
        start += 4
    return bytes(buffer)


def test_xlsx_claiming_two_gigabytes_is_refused():
    data = _patch_declared_size(xlsx_bytes([ROW], header=HEADER), "xl/worksheets/sheet1.xml", 2 * 1024**3)
    assert len(data) < 20_000
    with pytest.raises(SheetError, match="压缩炸弹"):
        read(data, name="bomb.xlsx")


def test_xlsx_with_a_highly_compressed_member_is_refused():
    source = io.BytesIO(xlsx_bytes([ROW], header=HEADER))
    out = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        zout.writestr("xl/media/padding.xml", b"\x00" * (20 * 1024 * 1024))
    with pytest.raises(SheetError, match="压缩"):
        read(out.getvalue(), name="bomb.xlsx")


def test_xlsx_with_xml_entities_is_refused():
    source = io.BytesIO(xlsx_bytes([ROW], header=HEADER))
    out = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            content = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(
                    b"<worksheet", b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]><worksheet', 1
                )
                assert b"ENTITY" in content
            zout.writestr(item, content)
    with pytest.raises(SheetError, match="实体"):
        read(out.getvalue(), name="entities.xlsx")


def test_csv_and_xlsx_of_the_same_content_read_the_same():
    rows = [ROW, ["002", "李四", "450203199001011250", ""]]
    from_csv = read(csv_bytes(rows, header=HEADER, encoding="gbk"))
    from_xlsx = read(xlsx_bytes(rows, header=HEADER), name="r.xlsx")
    assert [r.values for r in from_csv.rows] == [r.values for r in from_xlsx.rows]
