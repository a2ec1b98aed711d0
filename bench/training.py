"""Training benchmark on PostgreSQL: prints figures, asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/legaltrack_training_bench python bench/training.py

1. 200,000 staff in 200 units (loaded with COPY).
2. A 5,000-row sign-in sheet carrying only 姓名 and 单位, imported with the real service
   (read, match by name and unit, freeze units, bulk insert, import record); then again.
3. A year with 2,000 events and 500,000 attendances (plus 100,000 in the year before):
   ``training_stats`` for the district and for one department's subtree, and ``hours_below``.

The database is emptied of units, staff and training data first.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/legaltrack_training_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

STAFF = 200_000
UNITS = 200
SHEET_ROWS = 5_000
EVENTS = 2_000
ATTENDANCES = 500_000
PREVIOUS_YEAR_ATTENDANCES = 100_000
YEAR = 2025


def ensure_database() -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"]:
        raise SystemExit("bench/training.py runs on PostgreSQL: set DATABASE_URL to a postgres:// URL")
    conninfo = dict(host=config["HOST"] or "127.0.0.1", port=config["PORT"] or 5432, user=config["USER"] or "postgres",
                    password=config["PASSWORD"] or None, dbname="postgres", autocommit=True)
    with psycopg.connect(**conninfo) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{config["NAME"]}"')


def timed(label: str, fn, *, repeat: int = 1):
    best, result = None, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    print(f"  {label}: {best:.3f} s" + (f" (best of {repeat})" if repeat > 1 else ""))
    return result, best


def main() -> None:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from roster.demo import make_name
    from roster.idnumbers import Sealer
    from roster.models import Unit
    from roster.units import units_rebuild_paths
    from training.attendance import attendance_import
    from training.exports import hours_rows
    from training.models import Attendance, TrainingEvent
    from training.selectors import hours_below, required_hours, training_stats

    call_command("migrate", verbosity=0)
    rng = random.Random(2025)
    print(f"PostgreSQL {connection.pg_version}: database {connection.settings_dict['NAME']}")

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE training_attendance, training_trainingevent_audience_units, training_trainingevent, "
            "training_studyhoursrequirement, sheets_importrecord, roster_staffchange, roster_staff, roster_unit CASCADE"
        )

    # --- 1. the roster -------------------------------------------------------------------
    print(f"setup: {UNITS} units, {STAFF:,} staff")
    started = time.perf_counter()
    root = Unit.objects.create(code="R", name="基准区", kind="admin")
    departments = [Unit(code=f"D{i:02d}", name=f"基准区第{i}局", parent=root, kind="department") for i in range(1, 20)]
    Unit.objects.bulk_create(departments)
    leaves = [
        Unit(code=f"U{i:03d}", name=f"基准区第{i % 19 + 1}局第{i}科", parent=departments[i % 19], kind="other")
        for i in range(UNITS - 20)
    ]
    Unit.objects.bulk_create(leaves)
    units_rebuild_paths()
    unit_rows = list(Unit.objects.exclude(pk=root.pk).values_list("id", "name"))
    sealer = Sealer()
    buffer = io.StringIO()
    people: list[tuple[str, int, str]] = []  # (name, unit id, unit name)
    for i in range(STAFF):
        unit_id, unit_name = unit_rows[i % len(unit_rows)]
        name = make_name(rng)
        people.append((name, unit_id, unit_name))
        digest = sealer.digest(f"bench-{i}")
        buffer.write(
            f"B{i:06d}\t{name}\t\tbench\t{digest}\t450203********{i % 10000:04d}\t{unit_id}\t\t\tf\t\t"
            f"139{i:08d}\tt\t2020-01-01\t2020-01-01 00:00:00+08\t2020-01-01 00:00:00+08\n"
        )
    with connection.cursor() as cursor:
        columns = ("staff_no, name, gender, id_number_cipher, id_number_hash, id_number_masked, unit_id, position, "
                   "category, is_head, enforcement_cert, phone, is_active, joined_on, created_at, updated_at")
        with cursor.cursor.copy(f"COPY roster_staff ({columns}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        cursor.execute("ANALYZE roster_staff")
    print(f"  loaded in {time.perf_counter() - started:.1f} s")

    # --- 2. a 5,000-row sheet matched by name and unit -----------------------------------
    counts: dict[tuple[str, int], int] = {}
    for name, unit_id, _ in people:
        counts[(name, unit_id)] = counts.get((name, unit_id), 0) + 1
    unique = [p for p in people if counts[(p[0], p[1])] == 1]
    shared = [p for p in people if counts[(p[0], p[1])] > 1]
    rows = rng.sample(unique, SHEET_ROWS - 60) + rng.sample(shared, 50)
    rows += rng.sample(rows, 10)  # people who signed twice
    rng.shuffle(rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["序号", "姓名", "单位", "签到时间"])
    for n, (name, _, unit_name) in enumerate(rows, start=1):
        writer.writerow([n, name, unit_name, f"8:{rng.randrange(30, 60):02d}"])
    data = out.getvalue().encode("utf-8")
    event = TrainingEvent.objects.create(title="基准讲座", kind="lecture", date=datetime.date(YEAR, 5, 20), hours="2.5")
    print(f"sign-in sheet: {len(rows):,} rows (姓名 + 单位 only), {len(data) / 1024:.0f} KB")
    result, first = timed("import, first run", lambda: attendance_import(event=event, data=data, file_name="sheet.csv"))
    print(f"    applied {result.applied}, duplicates {result.duplicates}, ambiguous {result.ambiguous}, "
          f"unmatched {result.unmatched}, invalid {result.invalid}")
    again, _ = timed("import, same sheet again", lambda: attendance_import(event=event, data=data, file_name="sheet.csv"))
    print(f"    applied {again.applied}, already recorded {again.already_recorded}")
    print(f"  => 5,000-row sheet by name + unit: {first:.2f} s (target < 3 s)")

    # --- 3. a year of 2,000 events and 500,000 attendances -------------------------------
    print(f"setup: {EVENTS:,} events and {ATTENDANCES:,} attendances in {YEAR}, "
          f"{PREVIOUS_YEAR_ATTENDANCES:,} in {YEAR - 1}")
    started = time.perf_counter()
    Attendance.objects.all().delete()
    TrainingEvent.objects.all().delete()
    kinds = ["executive_meeting", "study_session", "lecture", "court_observation", "enforcement_training", "online_course"]
    with connection.cursor() as cursor:
        for year, n_events, per_event in ((YEAR, EVENTS, ATTENDANCES // EVENTS), (YEAR - 1, 400, PREVIOUS_YEAR_ATTENDANCES // 400)):
            cursor.execute(
                """INSERT INTO training_trainingevent (title, kind, date, hours, speaker, location, audience,
                          signin_token, created_at)
                   SELECT %s || g, (%s::text[])[1 + g %% 6], make_date(%s, 1, 1) + (g %% 365),
                          (ARRAY[1, 1.5, 2, 2.5, 3, 4, 8, 16])[1 + g %% 8], '', '', 'district',
                          md5(random()::text || g), now()
                     FROM generate_series(1, %s) g""",
                [f"基准活动{year}-", kinds, year, n_events],
            )
            cursor.execute(
                """INSERT INTO training_attendance (event_id, staff_id, unit_id, status, source, created_at)
                   SELECT e.id, s.id, s.unit_id,
                          CASE WHEN k %% 100 < 90 THEN 'present' WHEN k %% 100 < 95 THEN 'late'
                               WHEN k %% 100 < 98 THEN 'excused' ELSE 'absent' END,
                          'sheet', now()
                     FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM training_trainingevent
                            WHERE date >= make_date(%s, 1, 1) AND date < make_date(%s + 1, 1, 1)) e
                    CROSS JOIN generate_series(0, %s - 1) k
                     JOIN (SELECT id, unit_id, row_number() OVER (ORDER BY id) - 1 AS n FROM roster_staff) s
                       ON s.n = (e.n * 7919 + k * 104729) %% %s""",
                [year, year, per_event, STAFF],
            )
        cursor.execute("ANALYZE training_trainingevent")
        cursor.execute("ANALYZE training_attendance")
        cursor.execute("SELECT COUNT(*) FROM training_attendance")
        total = cursor.fetchone()[0]
    print(f"  {total:,} attendance rows loaded in {time.perf_counter() - started:.1f} s")

    stats, best = timed(f"training_stats(year={YEAR})", lambda: training_stats(year=YEAR), repeat=3)
    print(f"    events {stats['events']}, attendances {stats['attendances']:,}, staff_trained {stats['staff_trained']:,}, "
          f"person_hours {stats['person_hours']:,}")
    print(f"  => training_stats for 2,000 events / 500,000 attendances: {best:.3f} s (target < 1 s)")
    department = Unit.objects.get(code="D01")
    required = required_hours(year=YEAR)
    unit_stats, _ = timed(f"training_stats(year={YEAR}, unit=D01)", lambda: training_stats(year=YEAR, unit=department),
                          repeat=3)
    print(f"    events {unit_stats['events']}, attendances {unit_stats['attendances']:,}, "
          f"staff_trained {unit_stats['staff_trained']:,}")
    below, _ = timed(f"hours_below(year={YEAR}) over {STAFF:,} staff, all rows read as the command does",
                     lambda: len(hours_rows(hours_below(year=YEAR), required=required)), repeat=2)
    print(f"    {below:,} staff below the requirement")
    below_unit, _ = timed(f"hours_below(year={YEAR}, unit=D01)",
                          lambda: len(hours_rows(hours_below(year=YEAR, unit=department), required=required)), repeat=2)
    print(f"    {below_unit:,} staff below the requirement in D01")


if __name__ == "__main__":
    main()
