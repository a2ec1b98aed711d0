"""Bounded memory for XLSX uploads: a sheet's rows are counted while its XML is inflated, and
a sheet with more than SHEETS_MAX_ROWS is refused there, before anything loads it whole, with
a Chinese message naming the limit (bench/upload_refusal.py measures the time and peak RSS of
the refusal at 1,200,000 rows)."""

from __future__ import annotations

import io
import zipfile

import pytest

from bench.upload_refusal import csv_of, xlsx_of
from roster.columns import ROSTER_SCHEMA
from sheets.reader import SheetError, _count_row_tags, check_xlsx_container, read_table


def test_an_xlsx_over_the_row_limit_is_refused_while_its_xml_streams(settings):
    settings.SHEETS_MAX_ROWS = 1_000
    data = xlsx_of(3_000)
    with pytest.raises(SheetError) as caught:
        check_xlsx_container(data)  # the container check alone refuses it: no sheet was loaded
    assert "1000 行" in str(caught.value) and "行数上限" in str(caught.value)
    with pytest.raises(SheetError, match="行数上限（1000 行）"):
        read_table(data, filename="roster.xlsx", schema=ROSTER_SCHEMA)


def test_a_sheet_at_the_limit_is_read(settings):
    settings.SHEETS_MAX_ROWS = 1_000
    table = read_table(xlsx_of(1_000), filename="roster.xlsx", schema=ROSTER_SCHEMA)
    assert len(table.rows) == 1_000


def test_a_csv_over_the_row_limit_is_refused_with_the_limit(settings):
    settings.SHEETS_MAX_ROWS = 1_000
    with pytest.raises(SheetError, match="行数上限（1000 行）"):
        read_table(csv_of(3_000), filename="roster.csv", schema=ROSTER_SCHEMA)


def test_the_uncompressed_limit_is_named_in_the_refusal(settings):
    settings.SHEETS_MAX_UNCOMPRESSED_BYTES = 200_000
    with pytest.raises(SheetError, match=r"解压后.*上限"):
        check_xlsx_container(xlsx_of(5_000))


def test_row_tags_are_counted_once_across_chunk_boundaries_and_only_rows():
    assert _count_row_tags(b'<row r="1"><c/></row><row><c/></row><row/><c r="A1"><v>row</v></c>') == 3
    assert _count_row_tags(b'<x:row r="1"></x:row><x:row r="2"/>') == 2
    # the reader's chunks are 1 MB: a sheet whose row tags straddle chunk boundaries
    out = io.BytesIO()
    original = xlsx_of(40_000)
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            copy.writestr(info, source.read(info))
    sheet = zipfile.ZipFile(io.BytesIO(out.getvalue())).read("xl/worksheets/sheet1.xml")
    assert len(sheet) > 2 << 20 and _count_row_tags(sheet) == 40_001


def test_rows_straddling_chunks_are_all_counted(settings):
    settings.SHEETS_MAX_ROWS = 39_960  # 40,001 row elements: over the limit plus the 30 heading rows by 11
    with pytest.raises(SheetError, match="行数上限"):
        check_xlsx_container(xlsx_of(40_000))
    settings.SHEETS_MAX_ROWS = 39_971  # exactly at the allowance: passes the stream check
    check_xlsx_container(xlsx_of(40_000))
