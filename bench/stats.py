"""Reports benchmark on PostgreSQL: participation snapshots and the annual report.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/legaltrack_reports_bench python bench/stats.py [--small]

Data: 200,000 staff in 2,000 units five levels deep (a root, 8 bureaus, 32 divisions, 128
sections, 1,831 teams), an open law exam with 200,000 candidates (2% exempt, 1% left before
sitting, 90% of the rest sat, a tenth of them failed), 2,000 events with 500,000 attendances this
year and 100,000 the year before. ``--small`` runs the same on a tiny district (a smoke run).

Prints, each beside a naive per-unit ORM loop run in the same process, and their ratio:
1. every unit's exam snapshot, alone and rolled up (target < 1 s; ratio >= 20x);
2. every unit's training snapshot for the year: attendances, people, hours and staff below the
   requirement, alone and rolled up (target < 1 s; ratio >= 20x);
3. the annual report built once and rendered in all four formats (target < 10 s).

The database is created when missing; its units, staff, exams and training are replaced.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/legaltrack_reports_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PRIVATE_UPLOAD_ROOT", str(ROOT / "var" / "bench-uploads"))
os.environ.pop("CELERY_BROKER_URL", None)

SMALL = "--small" in sys.argv
# units per level below the root: 8 bureaus, 4 divisions each, 4 sections each, then teams
FANOUT = (8, 4, 4) if not SMALL else (2, 2, 2)
UNITS = 2_000 if not SMALL else 40
STAFF_PER_UNIT = 100 if not SMALL else 10
EVENTS = 2_000 if not SMALL else 20
ATTENDANCES = 500_000 if not SMALL else 1_000
PREVIOUS_YEAR = 100_000 if not SMALL else 200


def ensure_database() -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"]:
        raise SystemExit("bench/stats.py runs on PostgreSQL: set DATABASE_URL to a postgres:// URL")
    conninfo = dict(host=config["HOST"] or "127.0.0.1", port=config["PORT"] or 5432, user=config["USER"] or "postgres",
                    password=config["PASSWORD"] or None, dbname="postgres", autocommit=True)
    with psycopg.connect(**conninfo) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{config["NAME"]}"')


def timed(label: str, fn, *, runs: int = 1):
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    value = statistics.median(times)
    print(f"  {label}: {value:.3f} s" + (f" (median of {runs})" if runs > 1 else ""), flush=True)
    return result, value


def unit_tree() -> list[tuple[int, str, str, int | None, str, int, str]]:
    """(id, code, name, parent, path, depth, kind): five levels, ``UNITS`` units."""
    units = [(1, "R", "基准区", None, "/1/", 0, "admin")]
    level = [units[0]]
    next_id = 2
    kinds = ("department", "department", "department", "department", "department", "town", "town", "education")
    for depth, fanout in enumerate(FANOUT, start=1):
        below = []
        for parent in level:
            for i in range(fanout):
                kind = kinds[i % len(kinds)] if depth == 1 else "other"
                unit = (next_id, f"U{next_id:04d}", f"{parent[2]}-{i + 1}", parent[0], f"{parent[4]}{next_id}/", depth, kind)
                units.append(unit)
                below.append(unit)
                next_id += 1
        level = below
    i = 0
    while len(units) < UNITS:
        parent = level[i % len(level)]
        units.append((next_id, f"U{next_id:04d}", f"{parent[2]}-队{i // len(level) + 1}", parent[0],
                      f"{parent[4]}{next_id}/", 4, "other"))
        next_id += 1
        i += 1
    return units


def load(year: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from roster.idnumbers import Sealer

    units = unit_tree()
    sealer = Sealer()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE reports_examsnapshot, reports_trainingsnapshot, reports_snapshotrun, reports_snapshotrequest,"
            " reports_annualreport, training_attendance, training_trainingevent_audience_units,"
            " training_trainingevent, training_studyhoursrequirement, exams_attempt, exams_candidate, exams_exam,"
            " sheets_importrecord, roster_staffchange, roster_staff, roster_rostersync, roster_unit"
            " RESTART IDENTITY CASCADE"
        )
        with cursor.cursor.copy(
            "COPY roster_unit (id, code, name, parent_id, path, depth, kind, is_active, sort_order) FROM STDIN"
        ) as copy:
            for unit_id, code, name, parent, path, depth, kind in units:
                copy.write_row((unit_id, code, name, parent, path, depth, kind, True, unit_id))
        cursor.execute("SELECT setval(pg_get_serial_sequence('roster_unit', 'id'), %s)", [len(units) + 1])
        with cursor.cursor.copy(
            "COPY roster_staff (staff_no, name, gender, id_number_cipher, id_number_hash, id_number_masked, unit_id,"
            " position, category, is_head, enforcement_cert, phone, is_active, joined_on, created_at, updated_at)"
            " FROM STDIN"
        ) as copy:
            n = 0
            for unit_id, *_ in units:
                for i in range(STAFF_PER_UNIT):
                    n += 1
                    copy.write_row((
                        f"{n:06d}", f"人员{n}", "", "bench", sealer.digest(f"bench-{n}"), "450203********0000",
                        unit_id, "科员", "", i == 0, "", f"139{n:08d}", True, None, now, now,
                    ))
        cursor.execute("ANALYZE roster_unit")
        cursor.execute("ANALYZE roster_staff")


def load_exam(year: int):
    from django.db import connection

    from exams.creation import exam_create
    from exams.models import Exam

    exam = exam_create(name="学法用法考试", year=year, kind="annual_law")
    with connection.cursor() as cursor:
        # 2% exempt, 1% left before sitting, 90% of the rest sat, scores 40..100
        cursor.execute(
            """UPDATE exams_candidate SET
                   exempt = (staff_id %% 50 = 0),
                   left_on = CASE WHEN staff_id %% 100 = 1 THEN %s::date ELSE NULL END,
                   best_score = CASE WHEN staff_id %% 50 <> 0 AND staff_id %% 100 <> 1 AND staff_id %% 10 <> 3
                                     THEN 40 + (staff_id * 7919) %% 61 END,
                   attempt_count = CASE WHEN staff_id %% 50 <> 0 AND staff_id %% 100 <> 1 AND staff_id %% 10 <> 3
                                        THEN 1 ELSE 0 END
                WHERE exam_id = %s""",
            [f"{year}-01-02", exam.pk],
        )
        cursor.execute("UPDATE exams_candidate SET passed = (best_score >= 60) WHERE exam_id = %s AND best_score IS NOT NULL",
                       [exam.pk])
        cursor.execute("ANALYZE exams_candidate")
    return Exam.objects.get(pk=exam.pk)


def load_training(year: int, *, events: int = EVENTS, attendances: int = ATTENDANCES, previous_year: int = PREVIOUS_YEAR,
                  staff: int = UNITS * STAFF_PER_UNIT, units: int = UNITS) -> None:
    """``events`` events and ``attendances`` attendances in ``year`` (a fifth as many events
    and ``previous_year`` attendances the year before), by INSERT .. SELECT over the staff
    (``staff`` of them) and units (ids 1..``units``) already loaded."""
    from django.db import connection

    kinds = ["executive_meeting", "study_session", "lecture", "court_observation", "enforcement_training", "online_course"]
    with connection.cursor() as cursor:
        for y, n_events, total in ((year, events, attendances), (year - 1, max(events // 5, 1), previous_year)):
            per_event = total // n_events
            cursor.execute(
                """INSERT INTO training_trainingevent (title, kind, date, hours, speaker, location, audience,
                          signin_token, signin_rotates, created_at)
                   SELECT %s || g, (%s::text[])[1 + g %% 6], make_date(%s, 1, 1) + (g %% 300),
                          (ARRAY[1, 1.5, 2, 2.5, 3, 4, 8, 16])[1 + g %% 8], '', '', 'district',
                          md5(random()::text || g), false, now()
                     FROM generate_series(1, %s) g""",
                [f"基准活动{y}-", kinds, y, n_events],
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
                       ON s.n = (e.n * 7919 + k::bigint * 104729) %% %s""",
                [y, y, per_event, staff],
            )
        # a tenth of the people moved during the year: their later attendance sits in another unit
        cursor.execute(
            """UPDATE training_attendance a SET unit_id = 1 + (a.unit_id %% %s)
                 FROM training_trainingevent e
                WHERE e.id = a.event_id AND a.staff_id %% 10 = 7 AND e.date >= make_date(%s, 7, 1)""",
            [units, year],
        )
        cursor.execute("ANALYZE training_trainingevent")
        cursor.execute("ANALYZE training_attendance")


# --- the naive versions: one ORM query per unit ----------------------------------------


def naive_exam(exam, units) -> int:
    from exams.models import Candidate
    from exams.selectors import figure_aggregates, figures_from_counts

    rows = 0
    for unit in units:
        for scope in (Candidate.objects.filter(exam=exam, unit=unit),
                      Candidate.objects.filter(exam=exam, unit__path__startswith=unit.path)):
            figures_from_counts(scope.aggregate(**figure_aggregates(closes_on=exam.closes_on)))
            rows += 1
    return rows


def naive_training(year: int, units) -> int:
    from django.db.models import Count, Sum

    from training.selectors import attended_in_year, hours_below

    rows = 0
    for unit in units:
        for attended, below in (
            (attended_in_year(year=year).filter(unit=unit), hours_below(year=year).filter(unit=unit)),
            (attended_in_year(year=year, unit=unit), hours_below(year=year, unit=unit)),
        ):
            attended.order_by().aggregate(n=Count("id"), people=Count("staff_id", distinct=True),
                                          hours=Sum("event__hours"))
            below.order_by().count()
            rows += 1
    return rows


def main() -> None:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from reports.annual import annual_report_build, annual_report_render
    from reports.models import ExamSnapshot, TrainingSnapshot
    from reports.selectors import participation_latest
    from reports.snapshots import snapshots_refresh
    from roster.models import Unit

    call_command("migrate", verbosity=0)
    Path(os.environ["PRIVATE_UPLOAD_ROOT"]).mkdir(parents=True, exist_ok=True)
    year = timezone.localdate().year
    load_avg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"PostgreSQL {connection.pg_version}; load average {load_avg}; {os.cpu_count()} CPUs", flush=True)
    print(f"setup: {UNITS:,} units (5 levels), {UNITS * STAFF_PER_UNIT:,} staff", flush=True)
    timed("units and staff by COPY", lambda: load(year))
    exam, _ = timed("exam with every staff member a candidate (create_exam's service) and scores by SQL",
                    lambda: load_exam(year))
    timed(f"{EVENTS:,} events, {ATTENDANCES:,} attendances in {year} (+{PREVIOUS_YEAR:,} in {year - 1})",
          lambda: load_training(year))
    units = list(Unit.objects.all())
    print(f"  {exam.candidates.count():,} candidates, {len(units):,} units, depth {max(u.depth for u in units) + 1}")

    print("1. every unit's exam snapshot, alone and rolled up (one recursive CTE, one bulk insert)", flush=True)
    run, exam_s = timed("snapshots_refresh(exam_ids=[exam])", lambda: snapshots_refresh(exam_ids=[exam.pk]), runs=3)
    print(f"     {run.rows:,} rows written; the root: "
          f"{[(r['sat'], r['expected']) for r in participation_latest(exam=exam) if r['depth'] == 0][0]} (sat, expected)")
    _, naive_exam_s = timed(f"naive: 2 ORM aggregates per unit ({2 * len(units):,} queries)",
                            lambda: naive_exam(exam, units))

    print("2. every unit's training snapshot for the year, alone and rolled up", flush=True)
    run, training_s = timed(f"snapshots_refresh(years=[{year}])", lambda: snapshots_refresh(years=[year]), runs=3)
    root = [r for r in participation_latest(year=year) if r["scope"] == "training" and r["depth"] == 0][0]
    print(f"     {run.rows:,} rows written; the root: {root['attendances']:,} attendances, "
          f"{root['staff_trained']:,} people, {root['person_hours']:,} hours, {root['staff_below_hours']:,} below")
    _, naive_training_s = timed(f"naive: 4 ORM queries per unit ({4 * len(units):,} queries)",
                                lambda: naive_training(year, units))

    print("3. the annual report, built once, in all four formats", flush=True)
    started = time.perf_counter()
    report, build_s = timed(f"annual_report_build(year={year})", lambda: annual_report_build(year=year))
    sizes = {}
    for fmt in ("json", "xlsx", "docx", "png"):
        data, _ = timed(f"render {fmt}", lambda fmt=fmt: annual_report_render(report=report, format=fmt))
        sizes[fmt] = len(data)
    report_s = time.perf_counter() - started
    print("     sizes: " + ", ".join(f"{k} {v / 1024:.0f} KB" for k, v in sizes.items()))
    print(f"     {report['narrative']}")

    ExamSnapshot.objects.all().delete()
    TrainingSnapshot.objects.all().delete()
    load_avg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print()
    print(f"figure                                          measured   target   naive loop   ratio  (load {load_avg})")
    for label, value, target, naive in (
        ("exam snapshot, every unit, with roll-up", exam_s, 1.0, naive_exam_s),
        ("training snapshot, every unit, with roll-up", training_s, 1.0, naive_training_s),
        ("annual report, all four formats", report_s, 10.0, None),
    ):
        verdict = "ok" if value < target else "SLOW"
        ratio = f"{naive / value:>6.0f}x" if naive else "      "
        naive_text = f"{naive:>9.2f} s" if naive else " " * 11
        print(f"{label:<46} {value:>7.3f} s  < {target:g} s  {naive_text}  {ratio}  {verdict}")


if __name__ == "__main__":
    main()
