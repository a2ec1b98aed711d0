"""Roster sync benchmark (PostgreSQL). Prints figures; it is not a test.

    .venv/bin/python bench/roster_sync.py [--rows 200000] [--small 2000] [--iex-rows 10000]

Every sync runs in a fresh child process that reads the file from disk and applies it
end to end (read, validate, apply), so that its time and peak memory are its own. Printed
side by side, measured in the same run:
- django-import-export doing the same job (import by staff_no, bulk mode), as a ratio;
- a bare COPY into a staging table plus one upsert, the practical limit.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
OUT = HERE / "out"
DATABASE = "legaltrack_bench_roster"
HEADER = ["工号", "姓名", "身份证号", "单位", "职务", "是否正职", "执法证号", "手机号"]
UNITS = 200


# --- data ---------------------------------------------------------------------------------


def make_people(n: int, seed: int = 1) -> list[list[str]]:
    from roster.demo import make_id_number

    rng = random.Random(seed)
    ids: set[str] = set()
    while len(ids) < n:
        ids.add(make_id_number(rng))
    return [
        [f"{i:07d}", f"姓名{i}", id_number, f"U{i % UNITS:04d}", "科员", "否", "", f"138{i:08d}"]
        for i, id_number in enumerate(sorted(ids, key=lambda _: rng.random()))
    ]


def resync_people(people: list[list[str]], seed: int = 2) -> list[list[str]]:
    """5% changed, 1% new, 1% gone."""
    rng = random.Random(seed)
    n = len(people)
    rows = [list(p) for p in people[: n - n // 100]]
    for row in rng.sample(rows, n * 5 // 100):
        row[4] = "科长" if row[4] != "科长" else "科员"
        row[1] = row[1] + "改"
    newcomers = make_people(n // 100, seed=seed + 100)
    for i, row in enumerate(newcomers):
        row[0] = f"9{i:07d}"
    existing = {r[2] for r in people}
    rows += [r for r in newcomers if r[2] not in existing]
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)


def write_xlsx(path: Path, rows: list[list[str]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("名册")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


# --- child: one measured sync ----------------------------------------------------------


def child_sync(path: str) -> None:
    from _common import peak_rss_mb, setup_django

    setup_django(DATABASE)
    from roster.sync import roster_sync_file

    start = time.perf_counter()
    result = roster_sync_file(path=path, allow_mass_deactivation=True)
    elapsed = time.perf_counter() - start
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_rss_mb(), "result": {
        k: v for k, v in result.as_dict().items() if k not in ("errors", "warnings")
    }, "errors": len(result.errors)}))


def run_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- baseline: COPY + one upsert on a bare table ----------------------------------------


def bare_copy_upsert(rows: Iterable[list[str]]) -> float:
    """COPY ``rows`` (the roster CSV's eight columns, any iterable) into a staging table and
    upsert them into bench_bare_staff in one statement; returns the seconds taken."""
    from django.db import connection, transaction

    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bare_stage (staff_no text, name text, id_number text, unit text, "
                       "position text, is_head text, cert text, phone text) ON COMMIT DROP")
        with cursor.cursor.copy("COPY bare_stage FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            """INSERT INTO bench_bare_staff AS t (staff_no, name, id_number, unit, position, is_head, cert, phone)
               SELECT staff_no, name, id_number, unit, position, is_head, cert, phone FROM bare_stage
               ON CONFLICT (staff_no) DO UPDATE SET name = EXCLUDED.name, id_number = EXCLUDED.id_number,
                   unit = EXCLUDED.unit, position = EXCLUDED.position, is_head = EXCLUDED.is_head,
                   cert = EXCLUDED.cert, phone = EXCLUDED.phone
               WHERE (t.name, t.id_number, t.unit, t.position, t.is_head, t.cert, t.phone)
                     IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.id_number, EXCLUDED.unit, EXCLUDED.position,
                                       EXCLUDED.is_head, EXCLUDED.cert, EXCLUDED.phone)"""
        )
    return time.perf_counter() - start


# --- django-import-export doing the same job ---------------------------------------------


def import_export_run(rows: list[list[str]]) -> float:
    import tablib
    from import_export import fields, resources, widgets

    from roster import idnumbers
    from roster.models import Staff, Unit

    class StaffResource(resources.ModelResource):
        unit = fields.Field(attribute="unit", column_name="unit", widget=widgets.ForeignKeyWidget(Unit, "code"))

        class Meta:
            model = Staff
            import_id_fields = ("staff_no",)
            fields = ("staff_no", "name", "unit", "position", "phone", "is_head", "enforcement_cert",
                      "id_number_cipher", "id_number_hash", "id_number_masked")
            use_bulk = True
            batch_size = 1000
            skip_unchanged = True

        def before_import_row(self, row, **kwargs):
            value = row["id_number"]
            row["id_number_cipher"] = idnumbers.encrypt(value)
            row["id_number_hash"] = idnumbers.digest(value)
            row["id_number_masked"] = idnumbers.mask(value)
            row["is_head"] = row["is_head"] == "是"

    dataset = tablib.Dataset(headers=["staff_no", "name", "id_number", "unit", "position", "is_head",
                                      "enforcement_cert", "phone"])
    for row in rows:
        dataset.append(row)
    start = time.perf_counter()
    result = StaffResource().import_data(dataset, dry_run=False, use_transactions=True, raise_errors=True)
    elapsed = time.perf_counter() - start
    assert not result.has_errors()
    return elapsed


def reset_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE roster_staffchange, roster_staff, roster_rostersync RESTART IDENTITY CASCADE")
    reset_bare_table()


def reset_bare_table() -> None:
    """An empty bench_bare_staff: the target of bare_copy_upsert."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_staff")
        cursor.execute("CREATE TABLE bench_bare_staff (id bigserial PRIMARY KEY, staff_no text UNIQUE, name text, "
                       "id_number text UNIQUE, unit text, position text, is_head text, cert text, phone text)")


def ensure_units() -> None:
    from roster.models import Unit
    from roster.units import units_rebuild_paths

    if Unit.objects.filter(code="U0000").exists():
        return
    root = Unit.objects.create(code="BENCH", name="基准测试区")
    Unit.objects.bulk_create([Unit(code=f"U{i:04d}", name=f"基准单位{i}", parent=root) for i in range(UNITS)])
    units_rebuild_paths()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--iex-rows", type=int, default=10_000)
    parser.add_argument("--child", nargs="*")
    args = parser.parse_args()
    if args.child:
        child_sync(args.child[1])
        return

    from _common import setup_django

    setup_django(DATABASE)
    OUT.mkdir(exist_ok=True)
    ensure_units()
    print(f"roster sync benchmark on PostgreSQL, {args.rows:,} rows, {UNITS} units")

    people = make_people(args.rows)
    resync = resync_people(people)
    small = people[: args.small]
    paths = {"small": OUT / "roster-small.csv", "first": OUT / "roster-200k.csv", "resync": OUT / "roster-200k-resync.csv",
             "xlsx": OUT / "roster-200k.xlsx"}
    write_csv(paths["small"], small)
    write_csv(paths["first"], people)
    write_csv(paths["resync"], resync)
    t = time.perf_counter()
    write_xlsx(paths["xlsx"], people)
    print(f"(generated files; the XLSX took {time.perf_counter() - t:.1f}s to write)")

    figures: dict[str, dict] = {}
    reset_tables()
    figures["small"] = run_child("sync", str(paths["small"]))
    reset_tables()
    figures["first"] = run_child("sync", str(paths["first"]))
    figures["resync"] = run_child("sync", str(paths["resync"]))
    figures["same"] = run_child("sync", str(paths["resync"]))
    reset_tables()
    figures["xlsx"] = run_child("sync", str(paths["xlsx"]))

    reset_tables()
    bare_first = bare_copy_upsert(people)
    bare_resync = bare_copy_upsert(resync)

    reset_tables()
    iex_people, iex_resync = people[: args.iex_rows], resync_people(people[: args.iex_rows])
    iex_first = import_export_run(iex_people)
    iex_again = import_export_run(iex_resync)
    reset_tables()

    def rate(n: int, seconds: float) -> float:
        return n / seconds

    n, n_re = len(people), len(resync)
    ours_first, ours_re = rate(n, figures["first"]["seconds"]), rate(n_re, figures["resync"]["seconds"])
    lines = [
        ("2,000-row CSV, end to end", figures["small"]["seconds"], "< 0.5 s"),
        (f"{n:,}-row CSV, first load", figures["first"]["seconds"], "< 8 s"),
        (f"{n_re:,}-row CSV, re-sync (5% changed, 1% new, 1% gone)", figures["resync"]["seconds"], "< 8 s"),
        (f"{n_re:,}-row CSV, same file again (all unchanged)", figures["same"]["seconds"], ""),
        (f"{n:,}-row XLSX, first load", figures["xlsx"]["seconds"], "< 10 s"),
    ]
    print()
    print(f"{'scenario':60} {'seconds':>8} {'rows/s':>9} {'peak MB':>8}  target")
    for (label, seconds, target), key in zip(lines, ["small", "first", "resync", "same", "xlsx"], strict=True):
        rows = len(small) if key == "small" else (n if key in ("first", "xlsx") else n_re)
        print(f"{label:60} {seconds:8.2f} {rows / seconds:9,.0f} {figures[key]['peak_mb']:8.0f}  {target}")
        result = figures[key]["result"]
        print(f"{'':60} created {result['created']}, updated {result['updated']}, unchanged {result['unchanged']}, "
              f"deactivated {result['deactivated']}, errors {figures[key]['errors']}")
    print()
    print(f"bare COPY + one upsert: first load {rate(n, bare_first):,.0f} rows/s, re-sync {rate(n_re, bare_resync):,.0f} rows/s")
    print(f"  ours/bare: first load {ours_first / rate(n, bare_first):.2f}, re-sync {ours_re / rate(n_re, bare_resync):.2f}"
          f"  (target: within 4x, i.e. >= 0.25)")
    iex_first_rate = rate(len(iex_people), iex_first)
    iex_re_rate = rate(len(iex_resync), iex_again)
    print(f"django-import-export (bulk, {len(iex_people):,} rows): first load {iex_first_rate:,.0f} rows/s, "
          f"re-sync {iex_re_rate:,.0f} rows/s")
    print(f"  ours/theirs: first load {ours_first / iex_first_rate:.1f}x, re-sync {ours_re / iex_re_rate:.1f}x"
          f"  (target: >= 20x)")


if __name__ == "__main__":
    main()
