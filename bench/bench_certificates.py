"""Certificates benchmark on PostgreSQL: a register of 20,000 enforcement certificates.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/legaltrack_certificates_bench python bench/bench_certificates.py

Prints four figures:
- import_certificates of a 20,000-row register (CSV, matched by ID number, name checked);
- the same file again (20,000 unchanged);
- renew_certificates for a renewal exam that 20,000 candidates passed (a third of them due
  or expired on its closing date);
- certificate_stats for the whole district (200 units, rolled up).

The database is created when missing and emptied first; units and staff are loaded by COPY.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/legaltrack_certificates_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PRIVATE_UPLOAD_ROOT", str(ROOT / "var" / "bench-uploads"))
os.environ.pop("CELERY_BROKER_URL", None)

CERTIFICATES = 20_000
UNITS = 200


def ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    admin = psycopg.connect(
        dbname="postgres", user=cfg["USER"], password=cfg.get("PASSWORD") or None, host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432, autocommit=True,
    )
    with admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label}: {time.perf_counter() - start:.3f} s", flush=True)
    return result


def load_district(rng: random.Random) -> list[tuple[str, str, str]]:
    from django.db import connection
    from django.utils import timezone

    from roster import idnumbers
    from roster.demo import make_id_number, make_name

    units = [(1, "R", "全区", None, "/1/", 0)] + [
        (i, f"U{i:03d}", f"单位{i:03d}", 1, f"/1/{i}/", 1) for i in range(2, UNITS + 1)
    ]
    sealer = idnumbers.Sealer()
    now, today = timezone.now(), timezone.localdate()
    used: set[str] = set()
    rows, people = [], []
    for n in range(1, CERTIFICATES + 1):
        id_number = make_id_number(rng)
        while id_number in used:
            id_number = make_id_number(rng)
        used.add(id_number)
        name, staff_no = make_name(rng), f"{n:06d}"
        unit_id = units[n % UNITS][0]
        rows.append((staff_no, name, "", sealer.encrypt(id_number), sealer.digest(id_number), idnumbers.mask(id_number),
                     unit_id, "科员", "", False, f"桂执{n:07d}", "", True, today, now, now))
        people.append((staff_no, name, id_number))
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE certificates_certificaterenewal, certificates_certificatechange, certificates_certificate,"
            " exams_attempt, exams_candidate, exams_exam, sheets_importrecord, roster_staffchange, roster_staff,"
            " roster_rostersync, roster_unit RESTART IDENTITY CASCADE"
        )
        with cursor.cursor.copy("COPY roster_unit (id, code, name, parent_id, path, depth, kind, is_active, sort_order)"
                                " FROM STDIN") as copy:
            for unit_id, code, name, parent, path, depth in units:
                copy.write_row((unit_id, code, name, parent, path, depth, "other", True, unit_id))
        cursor.execute("SELECT setval(pg_get_serial_sequence('roster_unit', 'id'), %s)", [UNITS + 1])
        with cursor.cursor.copy(
            "COPY roster_staff (staff_no, name, gender, id_number_cipher, id_number_hash, id_number_masked, unit_id,"
            " position, category, is_head, enforcement_cert, phone, is_active, joined_on, created_at, updated_at)"
            " FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute("ANALYZE roster_unit")
        cursor.execute("ANALYZE roster_staff")
    return people


def register_file(rng: random.Random, people: list[tuple[str, str, str]], closes_on: dt.date) -> bytes:
    """One certificate each; a third expire before the exam closes or within the window."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名", "身份证号", "证件号", "证件类型", "发证日期", "有效期至", "状态", "发证机关"])
    for n, (_, name, id_number) in enumerate(people, start=1):
        offset = rng.randint(-60, 80) if n % 3 == 0 else rng.randint(200, 900)
        expires = closes_on + dt.timedelta(days=offset)
        writer.writerow([name, id_number, f"桂执{n:07d}", "执法证", "2020-01-01", expires.isoformat(), "有效", "全区政府"])
    return buffer.getvalue().encode("utf-8")


def main() -> None:
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    if connection.vendor != "postgresql":
        sys.exit("bench/bench_certificates.py runs on PostgreSQL: set DATABASE_URL.")
    call_command("migrate", verbosity=0)
    Path(settings.PRIVATE_UPLOAD_ROOT).mkdir(parents=True, exist_ok=True)

    from certificates.imports import certificate_import_create, certificate_import_run
    from certificates.renewal import certificates_renew
    from certificates.selectors import certificate_stats
    from exams.creation import exam_create
    from exams.models import Candidate

    rng = random.Random(16)
    print(f"PostgreSQL {connection.cursor().connection.info.server_version}; {CERTIFICATES:,} certificates, "
          f"{UNITS} units", flush=True)
    people = timed("setup: units and staff by COPY", lambda: load_district(rng))
    today = timezone.localdate()
    closes = today - dt.timedelta(days=1)
    data = register_file(rng, people, closes)

    def run_import():
        return certificate_import_run(record=certificate_import_create(file=data, file_name="register.csv"))

    first = timed("1. import_certificates: 20,000 rows", run_import)
    print(f"   created {first.created:,}, problems {len(first.errors)}")
    again = timed("2. import_certificates: the same file again", run_import)
    print(f"   unchanged {again.unchanged:,}, updated {again.updated}")

    exam = exam_create(name="执法续职考试", year=closes.year, kind="enforcement_renewal",
                       opens_on=closes - dt.timedelta(days=30), closes_on=closes)
    Candidate.objects.filter(exam=exam).update(best_score=90, attempt_count=1, passed=True)
    print(f"   renewal exam: {Candidate.objects.filter(exam=exam).count():,} candidates, all passed")
    renewal = timed("3. renew_certificates", lambda: certificates_renew(exam=exam))
    print(f"   renewed {renewal.renewed:,}, not due {renewal.not_due:,}")
    stats = timed("4. certificate_stats (whole district)", lambda: certificate_stats(on=today))
    print(f"   holders {stats['holders']:,}, valid {stats['valid']:,}, due {stats['due']:,}, "
          f"expired {stats['expired']:,}; {len(stats['by_unit'])} units")


if __name__ == "__main__":
    main()
