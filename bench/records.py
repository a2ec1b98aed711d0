"""Learning-record benchmark on PostgreSQL: prints figures, asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/legaltrack_records_bench python bench/records.py

1. 2,000 staff in 40 units (loaded with COPY), two exams of the year with every one a
   candidate (95 % sat, some twice), 60 training events with about 15 attendance records a
   person in the year and as many the year before.
2. The district's learning file (年度学法档案) for 2,000 people: XLSX (target < 5 s) and DOCX
   (target < 30 s), this year and last year (read back from the roster history), with the
   Python memory peak (tracemalloc) for 500 and for 2,000 people: it should not grow with
   the number of people.
3. One person's record (the API's JSON).

The database is emptied of units, staff, exams and training data first.
"""

from __future__ import annotations

import datetime
import io
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._common import setup_django  # noqa: E402

STAFF = 2_000
UNITS = 40
EVENTS = 60
PER_PERSON = 15


def timed(label: str, fn, *, repeat: int = 1):
    best, result = None, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    print(f"  {label}: {best:.3f} s" + (f" (best of {repeat})" if repeat > 1 else ""))
    return result, best


def peak_mb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()


def main() -> None:
    setup_django("legaltrack_records_bench")  # creates and migrates it; DATABASE_URL chooses another
    from django.db import connection

    from exams.creation import exam_create
    from records.exports import learning_file_export
    from records.selectors import learning_file_people, staff_record
    from roster.demo import make_name
    from roster.idnumbers import Sealer
    from roster.models import Staff, Unit
    from roster.units import units_rebuild_paths

    if connection.vendor != "postgresql":
        raise SystemExit("bench/records.py runs on PostgreSQL: set DATABASE_URL to a postgres:// URL")
    rng = random.Random(15)
    year = datetime.date.today().year
    print(f"PostgreSQL {connection.pg_version}: database {connection.settings_dict['NAME']}")
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE exams_attempt, exams_candidate, exams_exam, training_attendance, "
            "training_trainingevent_audience_units, training_trainingevent, training_studyhoursrequirement, "
            "sheets_importrecord, roster_staffchange, roster_staff, roster_unit, api_auditevent CASCADE"
        )

    # --- 1. the district --------------------------------------------------------------------
    started = time.perf_counter()
    root = Unit.objects.create(code="R", name="基准区", kind="admin")
    departments = [Unit(code=f"D{i:02d}", name=f"基准区第{i}局", parent=root, kind="department", sort_order=i)
                   for i in range(1, 9)]
    Unit.objects.bulk_create(departments)
    Unit.objects.bulk_create([
        Unit(code=f"U{i:02d}", name=f"基准区第{i % 8 + 1}局第{i}科", parent=departments[i % 8], kind="other", sort_order=i)
        for i in range(UNITS - 9)
    ])
    units_rebuild_paths()
    unit_ids = list(Unit.objects.exclude(pk=root.pk).values_list("id", flat=True))
    sealer = Sealer()
    buffer = io.StringIO()
    for i in range(STAFF):
        buffer.write(
            f"R{i:05d}\t{make_name(rng)}\t\tbench\t{sealer.digest(f'records-{i}')}\t450203********{i:04d}\t"
            f"{unit_ids[i % len(unit_ids)]}\t科员\t\tf\t\t139{i:08d}\tt\t2020-01-01\t2020-01-01 00:00:00+08\t"
            f"2020-01-01 00:00:00+08\n"
        )
    with connection.cursor() as cursor:
        columns = ("staff_no, name, gender, id_number_cipher, id_number_hash, id_number_masked, unit_id, position, "
                   "category, is_head, enforcement_cert, phone, is_active, joined_on, created_at, updated_at")
        with cursor.cursor.copy(f"COPY roster_staff ({columns}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        for y in (year - 1, year):
            cursor.execute(
                """INSERT INTO training_trainingevent (title, kind, date, hours, speaker, location, audience,
                          signin_token, created_at)
                   SELECT %s || g, (ARRAY['lecture','study_session','court_observation','online_course'])[1 + g %% 4],
                          make_date(%s, 1, 1) + (g * 5 %% 330), (ARRAY[1, 1.5, 2, 3, 4])[1 + g %% 5], '', '',
                          'district', md5(random()::text || g || %s), now()
                     FROM generate_series(1, %s) g""",
                [f"基准学法活动{y}-", y, y, EVENTS],
            )
            # each person at about PER_PERSON of the year's events; 90 % present, the rest late/excused/absent
            cursor.execute(
                """INSERT INTO training_attendance (event_id, staff_id, unit_id, status, source, created_at)
                   SELECT e.id, s.id, s.unit_id,
                          CASE WHEN (s.id + e.id) %% 20 < 18 THEN 'present' WHEN (s.id + e.id) %% 20 = 18 THEN 'late'
                               ELSE 'excused' END, 'sheet', now()
                     FROM training_trainingevent e JOIN roster_staff s ON (s.id * 7 + e.id * 13) %% %s < %s
                    WHERE e.date >= make_date(%s, 1, 1) AND e.date < make_date(%s + 1, 1, 1)""",
                [EVENTS, PER_PERSON, y, y],
            )
        cursor.execute("ANALYZE")
    today = datetime.date.today()
    exams = [
        exam_create(name="学法用法考试", year=year, kind="annual_law", opens_on=today - datetime.timedelta(days=30),
                    closes_on=today - datetime.timedelta(days=1)),
        exam_create(name="学法用法补充考试", year=year, kind="annual_law", opens_on=today - datetime.timedelta(days=20),
                    closes_on=today - datetime.timedelta(days=2)),
    ]
    with connection.cursor() as cursor:
        for exam in exams:
            cursor.execute(
                """UPDATE exams_candidate SET best_score = 40 + (id * 37 %% 61), attempt_count = 1 + (id %% 7 = 0)::int,
                          passed = (40 + (id * 37 %% 61)) >= 60
                    WHERE exam_id = %s AND id %% 20 <> 0""",
                [exam.pk],
            )
            cursor.execute("UPDATE exams_candidate SET exempt = true, exempt_reason = '长期病假' "
                           "WHERE exam_id = %s AND id %% 97 = 0", [exam.pk])
        cursor.execute("SELECT COUNT(*) FROM training_attendance")
        attendances = cursor.fetchone()[0]
        cursor.execute("ANALYZE")
    print(f"setup: {STAFF:,} staff in {UNITS} units, {2 * EVENTS} events, {attendances:,} attendance records, "
          f"{len(exams)} exams ({time.perf_counter() - started:.1f} s)")

    # --- 2. the learning file ---------------------------------------------------------------
    def write(unit, y, fmt):
        # to a file on disk, as the API and the command write it: memory holds no finished file
        with tempfile.TemporaryFile() as out:
            learning_file_export(unit=unit, year=y, format=fmt, out=out, reason="bench", username="bench")
            return out.tell()

    listed = len(learning_file_people(year=year, unit=root))
    print(f"learning file of the district, {listed:,} people:")
    size, xlsx = timed(f"xlsx {year}", lambda: write(root, year, "xlsx"), repeat=3)
    print(f"    {size / 1024:.0f} KB")
    size, docx = timed(f"docx {year}", lambda: write(root, year, "docx"), repeat=2)
    print(f"    {size / 1024:.0f} KB")
    timed(f"xlsx {year - 1} (who was there read from the roster history)", lambda: write(root, year - 1, "xlsx"), repeat=3)
    timed(f"docx {year - 1}", lambda: write(root, year - 1, "docx"), repeat=2)
    print(f"  => 2,000 people: xlsx {xlsx:.2f} s (target < 5 s), docx {docx:.2f} s (target < 30 s)")

    small = Unit.objects.get(code="D01")
    small_people = len(learning_file_people(year=year, unit=small))
    for fmt in ("xlsx", "docx"):
        few = peak_mb(lambda fmt=fmt: write(small, year, fmt))
        many = peak_mb(lambda fmt=fmt: write(root, year, fmt))
        print(f"  Python memory peak, {fmt}: {few:.1f} MB for {small_people:,} people, {many:.1f} MB for {listed:,}")

    # --- 3. one record ----------------------------------------------------------------------
    person = Staff.objects.select_related("unit").order_by("staff_no")[STAFF // 2]
    record, _ = timed("one person's record (all years)", lambda: staff_record(staff=person), repeat=5)
    print(f"    {len(record['years'])} years, {sum(len(y['attendances']) for y in record['years'])} attendance records")


if __name__ == "__main__":
    main()
