"""Undo benchmark (PostgreSQL): undoing the 5% re-sync. Prints figures; it is not a test.

    .venv/bin/python bench/undo_sync.py [--rows 200000]

Loads ``--rows`` people, re-syncs them with bench/roster_sync.py's re-sync file (5% changed in
two fields, 1% new, 1% gone), then times the undo of that re-sync: its dry run, the undo
itself (target: under 10 s for 200,000 rows), and the undo of the undo.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
OUT = HERE / "out"
DATABASE = "legaltrack_bench_undo"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()

    from _common import setup_django

    setup_django(DATABASE)
    from django.db import connection
    from roster_sync import UNITS, ensure_units, make_people, resync_people, write_csv

    from roster.models import RosterSync
    from roster.sync import roster_sync_file
    from roster.undo import roster_undo_now

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE roster_staffchange, roster_staff, roster_rostersync RESTART IDENTITY CASCADE")
    ensure_units()
    OUT.mkdir(exist_ok=True)
    people = make_people(args.rows)
    resync = resync_people(people)
    first, second = OUT / f"undo-{args.rows}.csv", OUT / f"undo-{args.rows}-resync.csv"
    write_csv(first, people)
    write_csv(second, resync)
    print(f"undo benchmark on PostgreSQL, {args.rows:,} rows, {UNITS} units")

    def timed(label: str, call):
        start = time.perf_counter()
        result = call()
        seconds = time.perf_counter() - start
        print(f"{label:58} {seconds:8.2f} s")
        return result

    assert timed("first load (sync)", lambda: roster_sync_file(path=first, allow_mass_deactivation=True)).applied
    resynced = timed("re-sync: 5% changed, 1% new, 1% gone", lambda: roster_sync_file(path=second,
                                                                                    allow_mass_deactivation=True))
    print(f"{'':58} updated {resynced.updated}, created {resynced.created}, deactivated {resynced.deactivated}")
    target = RosterSync.objects.get(pk=resynced.sync_id)
    preview = timed("undo of the re-sync, dry run", lambda: roster_undo_now(target=target, dry_run=True))
    assert preview.ok, preview.message
    undo = timed("undo of the re-sync (target: < 10 s at 200,000 rows)", lambda: roster_undo_now(target=target))
    assert undo.applied, undo.message
    print(f"{'':58} reverted {undo.reverted}, conflicts {len(undo.conflicts)}")
    again = timed("undo of that undo", lambda: roster_undo_now(target=RosterSync.objects.get(pk=undo.sync_id)))
    assert again.applied, again.message


if __name__ == "__main__":
    main()
