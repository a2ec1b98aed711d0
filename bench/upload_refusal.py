"""The refusal of an over-long upload: an XLSX of 1,200,000 short rows (the sheet's XML is
counted as it is inflated and refused once it passes SHEETS_MAX_ROWS, before calamine loads
the sheet) and a CSV of as many rows (refused by the reader's row cap while it reads). Each
refusal runs in a fresh process; the bench prints its time and the process's peak RSS.

    python bench/upload_refusal.py [--rows 1200000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
HEADINGS = ("工号", "姓名", "身份证号", "单位")


def _cells(number: int, values: tuple[str, ...]) -> str:
    return "".join(f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(values))


def xlsx_of(rows: int) -> bytes:
    """A roster XLSX of ``rows`` short rows, written straight as XML (openpyxl would take minutes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
                        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            sheet.write(f'<row r="1">{_cells(1, HEADINGS)}</row>'.encode())
            batch = []
            for n in range(2, rows + 2):
                batch.append(f'<row r="{n}">{_cells(n, (f"{n:07d}", "张三", "x", "A"))}</row>')
                if len(batch) == 10_000:
                    sheet.write("".join(batch).encode())
                    batch = []
            sheet.write("".join(batch).encode() + b"</sheetData></worksheet>")
    return out.getvalue()


def csv_of(rows: int) -> bytes:
    lines = [",".join(HEADINGS)] + [f"{n:07d},张三,x,A" for n in range(2, rows + 2)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


CHILD = """
import json, os, resource, sys, time
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from roster.columns import ROSTER_SCHEMA
from sheets.reader import SheetError, read_table
data = open({path!r}, "rb").read()
started = time.perf_counter()
try:
    read_table(data, filename={path!r}, schema=ROSTER_SCHEMA)
    message = None
except SheetError as exc:
    message = str(exc)
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "message": message}}, ensure_ascii=False))
"""


def refuse(path: Path) -> dict:
    env = {**os.environ, "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:///:memory:")}
    run = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), path=str(path))], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for kind, build in (("xlsx", xlsx_of), ("csv", csv_of)):
            path = Path(folder) / f"roster.{kind}"
            path.write_bytes(build(args.rows))
            result = refuse(path)
            size = path.stat().st_size / (1024 * 1024)
            print(f"{kind}: {args.rows:,} rows, {size:.1f} MB: refused in {result['seconds']:.1f} s, "
                  f"peak RSS {result['peak_rss_mb']:.0f} MB — {result['message']}")
            assert result["message"] and "行数上限" in result["message"], result


if __name__ == "__main__":
    main()
