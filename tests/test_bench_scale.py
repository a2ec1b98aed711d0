"""CI smoke run of bench/scale.py (issue 18) at a small size: it finishes, exits 0 and prints
its table with a figure on every line. The targets are the full size's; they are not asserted
here (a shared CI machine decides the seconds)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

WORK = (
    "roster first load, 20,000-row CSV, sync_roster",
    "bare COPY + one upsert",
    "re-sync: 5% changed, 1% new, 1% gone",
    "results import, 21,000 rows",
    "snapshot refresh, every unit rolled up",
    "exam_stats, the province",
    "exam_stats, one district",
    "not-sat page of 50, district liaison, API (p95)",
    "a city's not-sat CSV, API",
    "annual report, the province, 4 formats",
    "annual report, one district, 4 formats",
    "API mix",
)


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="bench/scale.py runs on PostgreSQL")
def test_scale_bench_runs_at_small_size():
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    done = subprocess.run(
        [sys.executable, "bench/scale.py", "--staff", "20000", "--units", "400", "--database", "lt_scale_smoke",
         "--api-seconds", "5", "--requests", "20"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert any(line.startswith("| work | seconds | peak RSS MB | target |") for line in lines), done.stdout[-2000:]
    rows = [line for line in lines if line.startswith("| ") and not line.startswith(("| work", "| ---"))]
    for work in WORK:
        row = next((r for r in rows if work in r), None)
        assert row is not None, f"no line for {work!r} in:\n" + "\n".join(rows)
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert re.search(r"\d+\.\d{3}", cells[1]), row  # a measured time
        assert int(cells[2]) > 0, row  # a peak RSS in MB
    # the data is what was asked for: every row created, the re-sync's changes, the results
    assert "'created': 20000" in done.stdout
    assert "'created': 200, 'updated': 990, 'deactivated': 200" in done.stdout
    # the bench dropped its database
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'lt_scale_smoke'")
        assert cursor.fetchone() is None
