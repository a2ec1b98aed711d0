"""Exams benchmark on PostgreSQL: 200,000 staff in 2,000 units.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/legaltrack_exams_bench python bench/exams.py

Prints four figures (targets from the issue):
- enrolling 200,000 candidates (create_exam's service): under 5 s
- importing a 200,000-row results export (XLSX, 10% retakes): under 20 s
- exam_stats for the whole exam (the command, including the open-exam refresh): under 0.5 s
- not_sat for a unit of 500 people (the command, JSON): under 0.2 s

The database is created when missing and emptied first. Units and staff are loaded with
COPY from generated rows (the roster sync's own speed is another benchmark's business).
"""

from __future__ import annotations

import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/legaltrack_exams_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PRIVATE_UPLOAD_ROOT", str(ROOT / "var" / "bench-uploads"))

STAFF = 200_000
UNITS = 2_000
MIDS = 399  # each with 4 leaves: a mid unit's subtree holds 5 x 100 = 500 people
RETAKE_SHARE = 0.10
SAT_SHARE = 0.90


def ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    admin = psycopg.connect(
        dbname="postgres", user=cfg["USER"], password=cfg.get("PASSWORD") or None, host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432, autocommit=True,
    )
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def timed(label: str, fn, *, runs: int = 1):
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    value = statistics.median(times)
    print(f"{label}: {value:.3f} s" + (f" (median of {runs})" if runs > 1 else ""), flush=True)
    return result, value


def load_district(rng: random.Random) -> dict[str, list]:
    """2,000 units (a root, 399 bureaus of 4 sub-units each, 4 more units under the root)
    and 100 staff in each, by COPY."""
    from django.db import connection
    from django.utils import timezone

    from roster import idnumbers
    from roster.demo import make_id_number, make_name

    units: list[tuple[int, str, str, int | None, str, int]] = [(1, "R", "全区", None, "/1/", 0)]
    next_id = 2
    mids: list[str] = []
    for m in range(MIDS):
        mid_id = next_id
        next_id += 1
        code = f"M{m:03d}"
        mids.append(code)
        units.append((mid_id, code, f"局{m:03d}", 1, f"/1/{mid_id}/", 1))
        for leaf in range(4):
            units.append((next_id, f"{code}-{leaf}", f"局{m:03d}下属{leaf}", mid_id, f"/1/{mid_id}/{next_id}/", 2))
            next_id += 1
    while len(units) < UNITS:
        units.append((next_id, f"X{next_id}", f"直属单位{next_id}", 1, f"/1/{next_id}/", 1))
        next_id += 1

    sealer = idnumbers.Sealer()
    now = timezone.now()
    today = timezone.localdate()
    used: set[str] = set()
    staff_rows = []
    people = []
    per_unit = STAFF // UNITS
    n = 0
    for unit_id, *_ in units:
        for i in range(per_unit):
            n += 1
            id_number = make_id_number(rng)
            while id_number in used:
                id_number = make_id_number(rng)
            used.add(id_number)
            name = make_name(rng)
            staff_no = f"{n:06d}"
            cert = f"桂执{n:07d}" if rng.random() < 0.1 else ""
            staff_rows.append((
                staff_no, name, "", sealer.encrypt(id_number), sealer.digest(id_number), idnumbers.mask(id_number),
                unit_id, "科员", "", i == 0, cert, f"139{n:08d}", True, today, now, now,
            ))
            people.append((staff_no, name, id_number, unit_id))
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE exams_attempt, exams_candidate, exams_exam, sheets_importrecord, roster_staffchange, roster_staff,"
            " roster_rostersync, roster_unit RESTART IDENTITY CASCADE"
        )
        with cursor.cursor.copy("COPY roster_unit (id, code, name, parent_id, path, depth, kind, is_active, sort_order) FROM STDIN") as copy:
            for unit_id, code, name, parent, path, depth in units:
                copy.write_row((unit_id, code, name, parent, path, depth, "other", True, unit_id))
        cursor.execute("SELECT setval(pg_get_serial_sequence('roster_unit', 'id'), %s)", [next_id])
        with cursor.cursor.copy(
            "COPY roster_staff (staff_no, name, gender, id_number_cipher, id_number_hash, id_number_masked, unit_id,"
            " position, category, is_head, enforcement_cert, phone, is_active, joined_on, created_at, updated_at) FROM STDIN"
        ) as copy:
            for row in staff_rows:
                copy.write_row(row)
        cursor.execute("ANALYZE roster_unit")
        cursor.execute("ANALYZE roster_staff")
    return {"people": people, "mids": mids}


def results_export(rng: random.Random, people: list[tuple]) -> tuple[bytes, int]:
    """The platform's export: 200,000 rows by ID number, 10% of them retakes."""
    from openpyxl import Workbook

    retakes = int(STAFF * RETAKE_SHARE)
    takers = rng.sample(people, STAFF - retakes)
    rows = []
    for _, name, id_number, unit_id in takers:
        rows.append((name, id_number, f"单位{unit_id}", rng.randint(40, 100), _when(rng)))
    for _, name, id_number, unit_id in rng.sample(takers, retakes):
        rows.append((name, id_number, f"单位{unit_id}", rng.randint(60, 100), _when(rng)))
    rng.shuffle(rows)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("成绩")
    sheet.append(["学法用法考试成绩导出"])
    sheet.append(["姓名", "身份证号", "所在单位", "考试成绩", "交卷时间"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), len(rows)


def _when(rng: random.Random):
    import datetime as dt

    return dt.datetime(2026, 6, 1, 8) + dt.timedelta(seconds=rng.randrange(0, 20 * 86400))


def main() -> None:
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    if connection.vendor != "postgresql":
        sys.exit("bench/exams.py runs on PostgreSQL: set DATABASE_URL.")
    call_command("migrate", verbosity=0)
    Path(settings.PRIVATE_UPLOAD_ROOT).mkdir(parents=True, exist_ok=True)

    from exams.creation import exam_create
    from exams.imports import exam_import_create, exam_import_run
    from exams.models import Attempt, Candidate
    from sheets.models import ImportKind

    rng = random.Random(2026)
    print(f"PostgreSQL {connection.cursor().connection.info.server_version}; {STAFF:,} staff in {UNITS:,} units", flush=True)
    district, _ = timed("setup: units and staff by COPY", lambda: load_district(rng))

    today = timezone.localdate()
    exam, enrol_s = timed(
        "1. create_exam: enrol 200,000 candidates",
        lambda: exam_create(name="学法用法考试", year=today.year, kind="annual_law"),
    )
    print(f"   candidates: {Candidate.objects.filter(exam=exam).count():,}")

    (data, n_rows), _ = timed("setup: write the XLSX export", lambda: results_export(rng, district["people"]))
    print(f"   {n_rows:,} rows, {len(data) / 1e6:.1f} MB")

    def run_import():
        record = exam_import_create(exam=exam, kind=ImportKind.EXAM_RESULTS, file=data, file_name="export.xlsx")
        return exam_import_run(record=record)

    result, import_s = timed("2. import_results: 200,000-row XLSX, 10% retakes", run_import)
    print(f"   status {result.status}: applied {result.applied:,}, duplicates {result.duplicates:,}, "
          f"errors {len(result.errors)}; attempts {Attempt.objects.filter(exam=exam).count():,}")
    again, _ = timed("   the same file again (all duplicates)", run_import)
    print(f"   applied {again.applied:,}, duplicates {again.duplicates:,}")

    out = io.StringIO()
    _, stats_s = timed(
        "3. exam_stats EXAM_ID --json (whole exam)",
        lambda: call_command("exam_stats", str(exam.pk), "--json", stdout=out),
        runs=5,
    )
    print("   " + out.getvalue().strip().splitlines()[-1])

    # a roster change (one move) since the last refresh: the first exam_stats after it
    # brings all 200,000 candidates up to date before counting
    with connection.cursor() as cursor:
        cursor.execute("UPDATE roster_staff SET unit_id = 2, updated_at = now() WHERE staff_no = '000150'")
    timed(
        "   exam_stats right after a roster change (refresh included)",
        lambda: call_command("exam_stats", str(exam.pk), "--json", stdout=io.StringIO()),
    )

    mid = district["mids"][123]
    out = io.StringIO()
    _, not_sat_s = timed(
        f"4. not_sat EXAM_ID --unit {mid} --format json (500 people)",
        lambda: call_command("not_sat", str(exam.pk), "--unit", mid, "--format", "json", stdout=out),
        runs=5,
    )
    import json

    from roster.models import Unit

    path = Unit.objects.get(code=mid).path
    print(f"   {len(json.loads(out.getvalue().strip().splitlines()[-1]))} not sat in a subtree of "
          f"{Candidate.objects.filter(exam=exam, unit__path__startswith=path).count()} candidates")

    print()
    print("figure                                   measured   target")
    for label, value, target in (
        ("enrol 200,000 candidates", enrol_s, 5.0),
        ("import 200,000-row results (10% retakes)", import_s, 20.0),
        ("exam_stats, whole exam", stats_s, 0.5),
        ("not_sat, unit of 500", not_sat_s, 0.2),
    ):
        verdict = "ok" if value < target else "SLOW"
        print(f"{label:<40} {value:>7.3f} s  < {target:g} s  {verdict}")


if __name__ == "__main__":
    main()
