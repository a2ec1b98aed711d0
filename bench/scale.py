"""Province scale benchmark on PostgreSQL (issue 18). Prints a table; it is not a test.

    .venv/bin/python bench/scale.py [--staff 1000000] [--units 20000] [--api-seconds 60] [--keep]

Generates a province in a database of its own (``--database``, dropped first and, unless
``--keep``, at the end): a root, 14 cities, about 110 districts and units to depth 6 (about
``--units`` in all); ``--staff`` staff loaded through ``sync_roster`` from a CSV; this year's open
law exam with every one of them a candidate and 1.05 x ``--staff`` results (70 % sat, half of them
twice) imported through ``import_results``; 200 events with 5 x ``--staff`` attendances. The files
are written by PostgreSQL itself (``COPY (SELECT .. FROM generate_series) TO STDOUT``), the
attendances by one INSERT .. SELECT (bench/stats.py's loader): no row loops in Python.

Every measured step runs in a child process of its own (``--step``), so its time and peak
RSS (``ru_maxrss``) are its own; the child's RSS before the step is printed beside it. The
API mix is bench/api.py's load generator against gunicorn with 2 workers; its peak RSS is the
largest worker's high-water mark (``VmHWM``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
OUT = HERE / "out"
CITIES = 14
DISTRICTS = 110
DEPTH = 6  # levels: province, city, district, bureau, division, section
SAT_SHARE = 7  # in ten
LIAISON = "scale-liaison"
OFFICE = "scale-office"

# the roster CSV: staff i (0-based) has staff number i, an ID number built from i (birth date
# 1970-01-01 + i / 1000 days, sequence i % 1000, its check digit computed in SQL) and unit
# (units)[1 + i % n]
ROSTER_SELECT = """
    SELECT lpad(i::text, 8, '0') AS "工号",
           '人员' || i || CASE WHEN %(changed)s AND i %% 20 = 0 THEN '改' ELSE '' END AS "姓名",
           f || substr('10X98765432', 1 + (SELECT sum(substr(f, k, 1)::int * w[k]) FROM generate_series(1, 17) k)::int %% 11, 1)
               AS "身份证号",
           (%(units)s::text[])[1 + i %% %(n_units)s] AS "单位", '科员' AS "职务", '否' AS "是否正职", '' AS "执法证号",
           '139' || lpad(i::text, 8, '0') AS "手机号"
      FROM generate_series(0, %(last)s) i,
           LATERAL (SELECT '450203' || to_char(date '1970-01-01' + i / 1000, 'YYYYMMDD') || lpad((i %% 1000)::text, 3, '0') AS f) id,
           (SELECT ARRAY[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] AS w) weights
     WHERE i < %(gone_from)s OR i >= %(staff)s
     ORDER BY i
"""

# the platform's results for the staff on the roster after the re-sync (with the re-sync's
# names): 70 % of them sat (i % 10 < 7), and half of those (i % 20 < 7) sat twice, later:
# 1.05 x staff rows
RESULTS_SELECT = """
    SELECT lpad(i::text, 8, '0') AS "工号", '人员' || i || CASE WHEN i %% 20 = 0 THEN '改' ELSE '' END AS "姓名",
           score AS "考试成绩",
           to_char(%(opens)s::timestamp + make_interval(secs => at), 'YYYY-MM-DD HH24:MI:SS') AS "交卷时间"
      FROM (SELECT i, 40 + (i::bigint * 7919) %% 61 AS score, 28800 + (i %% (14 * 86400)) AS at
              FROM generate_series(0, %(last)s) i WHERE i %% 10 < %(sat)s AND (i < %(gone_from)s OR i >= %(staff)s)
            UNION ALL
            SELECT i, 60 + (i * 31) %% 41, 15 * 86400 + 28800 + (i %% (12 * 86400))
              FROM generate_series(0, %(last)s) i
             WHERE i %% 20 < %(retake)s AND (i < %(gone_from)s OR i >= %(staff)s)) r
     ORDER BY i, at
"""


# --- the database -------------------------------------------------------------------------


def database_url(name: str) -> str:
    """The server of DATABASE_URL when it is PostgreSQL (else the local one), database ``name``."""
    url = os.environ.get("DATABASE_URL", "")
    base = url.rsplit("/", 1)[0] if url.startswith("postgres") else "postgres://postgres@127.0.0.1:5432"
    return f"{base}/{name}"


def drop_database(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres".replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_up(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("PRIVATE_UPLOAD_ROOT", str(ROOT / "var" / "bench-uploads"))
    from _common import setup_django

    setup_django(url.rsplit("/", 1)[-1])


# --- data (set-based) ---------------------------------------------------------------------


def unit_tree(total: int) -> list[tuple[int, str, str, int | None, str]]:
    """(id, code, name, parent id, kind): a root, 14 cities, 110 districts, and the rest in three
    levels below the districts (a fifth, three tenths, a half), spread round-robin."""
    units: list[tuple[int, str, str, int | None, str]] = [(1, "P", "全省", None, "admin")]
    cities = [(2 + c, f"C{c:02d}", f"第{c + 1}市", 1, "admin") for c in range(CITIES)]
    units += cities
    level = [(len(units) + d + 1, f"{cities[d % CITIES][1]}D{d // CITIES:02d}", f"{cities[d % CITIES][2]}第{d // CITIES + 1}区",
              cities[d % CITIES][0], "admin") for d in range(DISTRICTS)]
    units += level
    rest = max(total - len(units), 0)
    for share in (0.2, 0.3, 0.5):
        count = max(int(rest * share), len(level))
        below = []
        for k in range(count):
            parent = level[k % len(level)]
            unit_id = len(units) + 1
            below.append((unit_id, f"{parent[1]}-{k // len(level)}", f"{parent[2]}-{k // len(level) + 1}", parent[0], "other"))
            units.append(below[-1])
        level = below
    return units


def load_units(total: int) -> list[tuple]:
    from django.db import connection

    from roster.units import units_rebuild_paths

    units = unit_tree(total)
    with connection.cursor() as cursor:
        with cursor.cursor.copy("COPY roster_unit (id, code, name, parent_id, kind, is_active, sort_order, path, depth, tree_key)"
                                " FROM STDIN") as copy:
            for unit_id, code, name, parent, kind in units:
                copy.write_row((unit_id, code, name, parent, kind, True, unit_id, "/", 0, 0))
        cursor.execute("SELECT setval(pg_get_serial_sequence('roster_unit', 'id'), %s)", [len(units) + 1])
    units_rebuild_paths()
    return units


def copy_out(sql: str, params: dict, path: Path) -> None:
    """Let PostgreSQL write the query's rows as a CSV with a header."""
    from django.db import connection

    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, params)
        with path.open("wb") as handle, cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
            for block in copy:
                handle.write(block)


def write_roster(path: Path, *, staff: int, codes: list[str], resync: bool) -> None:
    """The first load (every staff member) or the re-sync: 5 % renamed, the last 1 % gone, 1 % new."""
    copy_out(ROSTER_SELECT, {"changed": resync, "units": codes, "n_units": len(codes), "staff": staff,
                             "gone_from": staff - staff // 100 if resync else staff,
                             "last": staff + staff // 100 - 1 if resync else staff - 1}, path)


def write_results(path: Path, *, staff: int, opens) -> None:
    copy_out(RESULTS_SELECT, {"last": staff + staff // 100 - 1, "sat": SAT_SHARE, "retake": SAT_SHARE, "opens": opens, "staff": staff,
                              "gone_from": staff - staff // 100}, path)


# --- the steps, each in its own child process -------------------------------------------


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def command_json(*args: str) -> dict:
    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, "--json", stdout=out, stderr=err)
    except BaseException:
        print(out.getvalue()[-2000:], err.getvalue()[-2000:], file=sys.stderr)
        raise
    return json.loads(out.getvalue().strip().splitlines()[-1])


def api_client(username: str):
    from django.test import Client
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=_user(username))
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_ACCEPT="application/json")


def _user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def timed_runs(fn, runs: int) -> tuple[float, float]:
    """(the first run's seconds, the median of the ``runs`` after it)."""
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times[0], statistics.median(times[1:])


def step(name: str, ctx: dict) -> dict:
    """One measured step: returns its seconds and details (the caller adds the memory)."""
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    if name in ("roster_first", "roster_resync"):
        started = time.perf_counter()
        result = command_json("sync_roster", ctx[name], "--allow-mass-deactivation")
        seconds = time.perf_counter() - started
        assert result.get("applied"), result
        return {"seconds": seconds, "detail": {k: result.get(k) for k in ("created", "updated", "deactivated")}}
    if name == "bare":
        from roster_sync import bare_copy_upsert, reset_bare_table

        reset_bare_table()
        with open(ctx["roster_first"], encoding="utf-8", newline="") as handle:
            rows = csv.reader(handle)
            next(rows)
            return {"seconds": bare_copy_upsert(rows)}
    if name == "results":
        started = time.perf_counter()
        result = command_json("import_results", str(ctx["exam_id"]), ctx["results"])
        seconds = time.perf_counter() - started
        assert result.get("status") == "succeeded", result
        return {"seconds": seconds, "detail": {k: result.get(k) for k in ("rows", "applied", "duplicates", "unmatched",
                                                                         "conflicts", "invalid")}}
    if name == "snapshots":
        started = time.perf_counter()
        result = command_json("refresh_snapshots", "--exam", str(ctx["exam_id"]), "--year", str(ctx["year"]))
        return {"seconds": time.perf_counter() - started, "detail": {"rows": result.get("rows")}}
    if name in ("stats_province", "stats_district"):
        unit = ("--unit", ctx["district"]) if name == "stats_district" else ()
        first, median = timed_runs(lambda: command_json("exam_stats", str(ctx["exam_id"]), *unit), 3)
        return {"seconds": median, "detail": {"first_s": round(first, 3)}}
    if name == "not_sat_page":
        client = api_client(LIAISON)
        rng = random.Random(5)
        url = f"/api/v1/exams/{ctx['exam_id']}/not-sat/"
        first = client.get(url)
        assert first.status_code == 200, first.content[:300]
        pages = max(1, -(-first.json()["count"] // 50))
        times = []
        for _ in range(ctx["requests"]):
            started = time.perf_counter()
            response = client.get(url, {"page": rng.randint(1, pages)})
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.content[:300]
        times.sort()
        return {"seconds": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
                "detail": {"not_sat": first.json()["count"], "p50_s": round(statistics.median(times), 3)}}
    if name == "city_csv":
        client = api_client(OFFICE)
        # a district's CSV first: the code paths, the exam's read-time refresh and the cursors
        # are warm, so the growth measured below is what the city's rows add (flat memory)
        warm = client.get(f"/api/v1/exams/{ctx['exam_id']}/not-sat/", {"unit": ctx["district"], "format": "csv"})
        for _ in warm.streaming_content:
            pass
        warm_mb = vm_hwm_mb(os.getpid())  # the high-water mark so far: peak_mb minus it is the growth
        started = time.perf_counter()
        response = client.get(f"/api/v1/exams/{ctx['exam_id']}/not-sat/", {"unit": ctx["city"], "format": "csv"})
        size = lines = 0
        for chunk in (response.streaming_content if response.streaming else [response.content]):
            size += len(chunk)
            lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        return {"seconds": seconds, "rss_warm_mb": round(warm_mb),
                "detail": {"rows": lines - 1, "MB": round(size / 1e6, 1), "streamed": response.streaming}}
    if name in ("report_province", "report_district"):
        from reports.annual import annual_report_build, annual_report_render
        from roster.models import Unit

        root = Unit.objects.get(code=ctx["district"]) if name == "report_district" else None
        started = time.perf_counter()
        report = annual_report_build(year=ctx["year"], root=root)
        sizes = {fmt: len(annual_report_render(report=report, format=fmt)) for fmt in ("json", "xlsx", "docx", "png")}
        return {"seconds": time.perf_counter() - started, "detail": {f"{k}_KB": v // 1024 for k, v in sizes.items()}}
    raise SystemExit(f"unknown step {name}")


def child(name: str, ctx_file: str) -> None:
    ctx = json.loads(Path(ctx_file).read_text())
    django_up(ctx["url"])
    import resource

    before = rss_mb()
    outcome = step(name, ctx)
    outcome["rss_before_mb"] = round(before)
    outcome["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(outcome, ensure_ascii=False))


def run_step(name: str, ctx_file: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--step", name, "--ctx", str(ctx_file)], capture_output=True,
                          text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"step {name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {name}: {outcome['seconds']:.3f} s, peak {outcome['peak_mb']} MB {outcome.get('detail', '')}", flush=True)
    return outcome


# --- the API mix: bench/api.py's load generator against gunicorn ---------------------------


def vm_hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found


def api_mix(url: str, context: dict, seconds: float, rate: float) -> dict:
    import importlib.util

    # bench/api.py, not the project's api package
    spec = importlib.util.spec_from_file_location("bench_api", HERE / "api.py")
    api = sys.modules["bench_api"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(api)

    context_file = OUT / "scale-api-context.json"
    context_file.write_text(json.dumps(context))
    port = api.free_port()
    server = api.start_gunicorn(url, port, 2)
    try:
        api.drive_in_subprocess(port, context_file, 20, 3)  # warm up: connections, caches
        result = api.drive_in_subprocess(port, context_file, rate, seconds)
        peak = max((vm_hwm_mb(pid) for pid in children_of(server.pid)), default=0.0)
    finally:
        server.terminate()
        server.wait(timeout=30)
    api.print_table(f"API mix, {rate:.0f} req/s for {seconds:.0f} s", result)
    return {"all": result["all"], "peak_mb": round(peak)}


# --- the run --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--database", default="lt_scale")
    parser.add_argument("--api-seconds", type=float, default=60.0, help="seconds of the API mix at --api-rate")
    parser.add_argument("--api-rate", type=float, default=50.0)
    parser.add_argument("--requests", type=int, default=50, help="not-sat pages requested for the p95")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--ctx", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        child(args.step, args.ctx)
        return

    url = database_url(args.database)
    # a province's results file (1.05 rows a person) is larger than a district's default limit
    os.environ.setdefault("SHEETS_MAX_ROWS", str(max(500_000, args.staff * 11 // 10 + 1_000)))
    # and its roster CSV (~100 bytes a person) is larger than the 50 MB upload limit
    os.environ.setdefault("SHEETS_MAX_BYTES", str(max(50 * 1024 * 1024, args.staff * 160)))
    drop_database(url)
    django_up(url)
    import datetime as dt

    import stats
    from django.db import connection
    from django.utils import timezone

    from access.services import user_role_set
    from exams.creation import exam_create
    from roster.models import RosterSync

    if connection.vendor != "postgresql":
        raise SystemExit("bench/scale.py runs on PostgreSQL")
    OUT.mkdir(exist_ok=True)
    Path(os.environ["PRIVATE_UPLOAD_ROOT"]).mkdir(parents=True, exist_ok=True)
    today = timezone.localdate()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"scale benchmark: {args.staff:,} staff, about {args.units:,} units; PostgreSQL {connection.pg_version}; "
          f"{os.cpu_count()} CPUs; load average {load}", flush=True)

    setup_started = time.perf_counter()
    units = load_units(args.units)
    codes = [code for unit_id, code, *_ in units]
    ctx: dict = {"url": url, "year": today.year, "requests": args.requests,
                 "roster_first": str(OUT / f"scale-{args.staff}.csv"),
                 "roster_resync": str(OUT / f"scale-{args.staff}-resync.csv"),
                 "results": str(OUT / f"scale-{args.staff}-results.csv"),
                 "city": "C00", "district": "C00D00"}
    write_roster(Path(ctx["roster_first"]), staff=args.staff, codes=codes, resync=False)
    write_roster(Path(ctx["roster_resync"]), staff=args.staff, codes=codes, resync=True)
    print(f"setup: {len(units):,} units, roster files written in {time.perf_counter() - setup_started:.1f} s", flush=True)
    ctx_file = OUT / "scale-ctx.json"
    ctx_file.write_text(json.dumps(ctx))

    figures: dict[str, dict] = {}
    try:
        print("measuring:", flush=True)
        figures["bare"] = run_step("bare", ctx_file)
        figures["roster_first"] = run_step("roster_first", ctx_file)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        figures["roster_resync"] = run_step("roster_resync", ctx_file)

        started = time.perf_counter()
        exam = exam_create(name="全省学法用法考试", year=today.year, kind="annual_law",
                           opens_on=today - dt.timedelta(days=30), closes_on=today + dt.timedelta(days=30))
        ctx["exam_id"] = exam.pk
        write_results(Path(ctx["results"]), staff=args.staff, opens=exam.opens_on)
        stats.load_training(today.year, events=200, attendances=5 * args.staff, previous_year=0,
                            staff=args.staff + args.staff // 100, units=len(units))
        user_role_set(username=LIAISON, role="liaison", unit_code=ctx["district"])
        user_role_set(username=OFFICE, role="legal_office", rate_limit_exempt=True)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        ctx_file.write_text(json.dumps(ctx))
        print(f"setup: exam {exam.pk} with {exam.candidates.count():,} candidates, results file, "
              f"{5 * args.staff:,} attendances in {time.perf_counter() - started:.1f} s", flush=True)

        figures["results"] = run_step("results", ctx_file)
        # what autovacuum does within a minute or two of a bulk load on its own (PostgreSQL 13+
        # vacuums after inserts too): the reads below see a set visibility map, so index-only
        # scans stay index-only, as they would on a province's server between imports
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        print(f"setup: VACUUM (ANALYZE) after the imports in {time.perf_counter() - started:.1f} s", flush=True)
        for name in ("snapshots", "stats_province", "stats_district", "not_sat_page", "city_csv",
                     "report_province", "report_district"):
            figures[name] = run_step(name, ctx_file)

        from rest_framework.authtoken.models import Token

        from roster.models import Staff, Unit

        # the mix's "unit" requests go to units holding at least 500 staff (bench/api.py pages through 10 pages)
        subtree = {u.code: Staff.objects.filter(is_active=True, unit__path__startswith=u.path).count()
                   for u in Unit.objects.filter(depth__in=(1, 2))}
        big = ([code for code, n in subtree.items() if n >= 500 and "D" in code]
               or [code for code, n in subtree.items() if n >= 500] or ["P"])
        context = {"token": Token.objects.get_or_create(user=_user(OFFICE))[0].key, "leaf_units": big,
                   "sync_ids": list(RosterSync.objects.values_list("id", flat=True)), "exam_id": exam.pk,
                   "participation_pages": max(1, -(-len(units) // 50))}
        print(f"API mix: {args.api_rate:.0f} req/s for {args.api_seconds:.0f} s, gunicorn 2 workers", flush=True)
        figures["api"] = api_mix(url, context, args.api_seconds, args.api_rate)
    finally:
        if not args.keep:
            connection.close()
            drop_database(url)
        for key in ("roster_first", "roster_resync", "results"):
            Path(ctx[key]).unlink(missing_ok=True)
        ctx_file.unlink(missing_ok=True)
    print_table(figures, args.staff)


def print_table(figures: dict, staff: int) -> None:
    f = figures
    ratio = f["roster_first"]["seconds"] / f["bare"]["seconds"]
    csv_growth = f["city_csv"]["peak_mb"] - f["city_csv"].get("rss_warm_mb", f["city_csv"]["rss_before_mb"])
    report = f["report_province"]["seconds"]
    api_all = f["api"]["all"]
    n = f"{staff:,}"
    lines = [
        (f"roster first load, {n}-row CSV, sync_roster", f["roster_first"], "< 45 s, <= 4x bare, < 2 GB",
         f"{ratio:.1f}x bare", f["roster_first"]["seconds"] < 45 and ratio <= 4 and f["roster_first"]["peak_mb"] < 2048),
        ("  bare COPY + one upsert (same file)", f["bare"], "", "", None),
        ("re-sync: 5% changed, 1% new, 1% gone", f["roster_resync"], "< 30 s", "", f["roster_resync"]["seconds"] < 30),
        (f"results import, {f['results']['detail']['rows']:,} rows", f["results"], "< 60 s", "", f["results"]["seconds"] < 60),
        ("snapshot refresh, every unit rolled up", f["snapshots"], "< 60 s", "", f["snapshots"]["seconds"] < 60),
        ("exam_stats, the province", f["stats_province"], "< 2 s", f"first {f['stats_province']['detail']['first_s']} s",
         f["stats_province"]["seconds"] < 2),
        ("exam_stats, one district", f["stats_district"], "< 0.3 s", f"first {f['stats_district']['detail']['first_s']} s",
         f["stats_district"]["seconds"] < 0.3),
        ("not-sat page of 50, district liaison, API (p95)", f["not_sat_page"], "p95 < 0.3 s",
         f"{f['not_sat_page']['detail']['not_sat']:,} not sat", f["not_sat_page"]["seconds"] < 0.3),
        ("a city's not-sat CSV, API", f["city_csv"], "< 10 s, flat memory",
         f"{f['city_csv']['detail']['rows']:,} rows, +{csv_growth} MB", f["city_csv"]["seconds"] < 10 and csv_growth < 100),
        ("annual report, the province, 4 formats", f["report_province"], "< 60 s", "", report < 60),
        ("annual report, one district, 4 formats", f["report_district"], "< 5 s", "", f["report_district"]["seconds"] < 5),
    ]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print()
    print(f"| work | seconds | peak RSS MB | target | note | ok? |   (load average now {load})")
    print("| --- | ---: | ---: | --- | --- | --- |")
    for label, figure, target, note, good in lines:
        verdict = "" if good is None else ("ok" if good else "MISSED")
        print(f"| {label} | {figure['seconds']:.3f} | {figure['peak_mb']} | {target} | {note} | {verdict} |")
    api_ok = api_all["p95_ms"] < 150 and api_all["p99_ms"] < 300 and api_all["errors"] == 0
    print(f"| API mix, {api_all['rps']} req/s, {api_all['requests']} requests, gunicorn 2 workers | "
          f"p95 {api_all['p95_ms'] / 1000:.3f} / p99 {api_all['p99_ms'] / 1000:.3f} | {f['api']['peak_mb']} | "
          f"p95 < 0.15 s, p99 < 0.3 s, 0 errors | {api_all['errors']} errors | {'ok' if api_ok else 'MISSED'} |")


if __name__ == "__main__":
    main()
