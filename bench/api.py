"""Benchmark of the REST API under a fixed arrival rate.

    python bench/api.py [--staff 200000] [--rate 50] [--duration 60] [--database legaltrack_api_bench]

1. Fills a PostgreSQL database with a district of --staff staff in leaf units of 500 (reused
   when it already holds that many), an open law exam of this year with every one of them
   enrolled and 90 % of them sat (imported through exams.imports; reused), its participation
   snapshots (recomputed on every run), and a load user with the legal_office role (who reads
   staff, syncs, not-sat lists and figures), exempt from rate limits.
2. Starts gunicorn (2 workers) on 127.0.0.1.
3. Drives it from another process with an open-loop load generator (threads, one connection
   per request, as gunicorn's sync workers close them): requests are scheduled at a fixed
   rate and each latency is measured from its scheduled time, so a slow server cannot slow
   the arrivals down and hide its own queueing (no coordinated omission).
4. Prints requests per second, p50/p95/p99, errors, per request kind; then searches for the
   saturation throughput: the highest rate whose p95 stays under 500 ms.

The requests are kinds in TARGETS, each added with ``target(...)``; a preparer in PREPARERS
puts the ids they need in the context.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEAF_SIZE = 500
DEPARTMENTS = 20
LOAD_USER = "bench-loader"
EXAM_NAME = "基准学法用法考试"
SAT_SHARE = 0.9
P95_LIMIT_MS = 500.0


# --- the request mix (hooks for later endpoints) ------------------------------------------


@dataclass
class Target:
    name: str
    weight: int
    path: Callable[[dict, random.Random], str]


TARGETS: list[Target] = []
# functions (context: dict) -> None run once the data exists, before gunicorn starts; they add
# what their targets need to the context (ids, unit codes)
PREPARERS: list[Callable[[dict], None]] = []


def target(name: str, weight: int, path: Callable[[dict, random.Random], str]) -> None:
    TARGETS.append(Target(name, weight, path))


# staff of one unit of 500, 50 a page (10 pages)
target("staff ?unit= (500, 50/page)", 4,
       lambda ctx, rng: f"/api/v1/staff/?unit={rng.choice(ctx['leaf_units'])}&page_size=50&page={rng.randint(1, 10)}")
# the not-sat list of one unit of 500 (about 50 people: one page) while the exam is open
target("exams/{id}/not-sat/?unit= (500)", 4,
       lambda ctx, rng: f"/api/v1/exams/{ctx['exam_id']}/not-sat/?unit={rng.choice(ctx['leaf_units'])}")
# participation per unit from the snapshots: the exam's rows, 50 a page, every page
target("stats/participation/", 2,
       lambda ctx, rng: f"/api/v1/stats/participation/?exam={ctx['exam_id']}&page={rng.randint(1, ctx['participation_pages'])}")
# roster endpoints: the status of a roster sync
target("roster/syncs/{id}/", 1, lambda ctx, rng: f"/api/v1/roster/syncs/{rng.choice(ctx['sync_ids'])}/")


def prepare_exam(context: dict) -> None:
    """This year's open law exam, every staff member enrolled (exams.creation.exam_create) and
    90 % of them sat (a results file through the import service), made once; then its
    snapshots, recomputed on every run (reports.snapshots.snapshots_refresh)."""
    import csv
    import datetime as dt
    import io

    from django.utils import timezone

    from exams.creation import exam_create
    from exams.imports import exam_import_create, exam_import_run
    from exams.models import Exam
    from reports.snapshots import snapshots_refresh
    from roster.models import Staff
    from sheets.models import ImportKind

    today = timezone.localdate()
    exam = Exam.objects.filter(name=EXAM_NAME, year=today.year).first()
    if exam is not None and not exam.is_open(today):
        Exam.objects.filter(pk=exam.pk).update(opens_on=today - dt.timedelta(days=30), closes_on=today + dt.timedelta(days=30))
    if exam is None:
        started = time.monotonic()
        exam = exam_create(name=EXAM_NAME, year=today.year, kind="annual_law",
                           opens_on=today - dt.timedelta(days=30), closes_on=today + dt.timedelta(days=30))
        rng = random.Random(7)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["姓名", "工号", "考试成绩"])
        for staff_no, name in Staff.objects.filter(is_active=True).order_by("staff_no").values_list("staff_no", "name"):
            if rng.random() < SAT_SHARE:
                writer.writerow([name, staff_no, rng.randint(40, 100)])
        record = exam_import_create(exam=exam, kind=ImportKind.EXAM_RESULTS, file=buffer.getvalue().encode(),
                                    file_name="bench-results.csv")
        result = exam_import_run(record=record)
        assert result.status == "succeeded", result.message
        print(f"exam {exam.pk}: {exam.candidates.count()} candidates, {result.applied} results imported "
              f"in {time.monotonic() - started:.0f} s", flush=True)
    run = snapshots_refresh(exam_ids=[exam.pk], years=[today.year])
    units = run.rows // 4  # each unit: alone and rolled up, for the exam and for the year's training
    context["exam_id"] = exam.pk
    context["participation_pages"] = max(1, -(-units // 50))


PREPARERS.append(prepare_exam)


# --- setup (in this process) --------------------------------------------------------------


def database_url(name: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def ensure_database(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "0"
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()


def district_units(leaves: int) -> list[tuple[str, str, str, str]]:
    units = [("BR", "基准区", "", "admin")]
    per_department = -(-leaves // DEPARTMENTS)
    made = 0
    for d in range(1, DEPARTMENTS + 1):
        if made >= leaves:
            break
        units.append((f"BR{d:02d}", f"基准区第{d}部门", "BR", "department"))
        for u in range(1, per_department + 1):
            if made >= leaves:
                break
            units.append((f"BR{d:02d}U{u:02d}", f"基准区第{d}部门第{u}单位", f"BR{d:02d}", "other"))
            made += 1
    return units


def seed(staff_count: int) -> dict:
    import csv
    import io

    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from access.services import user_role_set
    from roster.demo import make_id_number, make_name
    from roster.models import RosterSync, Staff, Unit
    from roster.sync import roster_sync, roster_sync_create
    from roster.units import unit_import

    call_command("migrate", verbosity=0)
    leaves = staff_count // LEAF_SIZE
    units = district_units(leaves)
    leaf_codes = [code for code, _, parent, kind in units if kind == "other"]
    if Staff.objects.filter(is_active=True).count() != staff_count or Unit.objects.count() != len(units):
        print(f"seeding {staff_count} staff in {leaves} units of {LEAF_SIZE} ...", flush=True)
        started = time.monotonic()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["代码", "名称", "上级代码", "类型"])
        writer.writerows(units)
        result = unit_import(data=buffer.getvalue().encode(), filename="units.csv")
        assert result.applied, result.errors[:3]
        rng = random.Random(2026)
        seen: set[str] = set()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["工号", "姓名", "身份证号", "单位", "职务", "手机号"])
        for i in range(staff_count):
            number = make_id_number(rng)
            while number in seen:
                number = make_id_number(rng)
            seen.add(number)
            writer.writerow([f"B{i:07d}", make_name(rng), number, leaf_codes[i // LEAF_SIZE], "科员", f"139{i:08d}"])
        sync = roster_sync_create(file=buffer.getvalue().encode(), file_name="bench-roster.csv",
                                  allow_mass_deactivation=True)
        outcome = roster_sync(sync=sync)
        assert outcome.status == "succeeded", outcome.message
        print(f"seeded in {time.monotonic() - started:.0f} s", flush=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    role, _ = user_role_set(username=LOAD_USER, role="legal_office", rate_limit_exempt=True)
    token, _ = Token.objects.get_or_create(user=role.user)
    context = {
        "token": token.key,
        "leaf_units": leaf_codes,
        "sync_ids": list(RosterSync.objects.order_by("-id").values_list("id", flat=True)[:5]),
    }
    for prepare in PREPARERS:
        prepare(context)
    return context


# --- gunicorn -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "DB_CONN_MAX_AGE": "60", "LOG_LEVEL": "WARNING"}
    env.pop("CELERY_BROKER_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


# --- the load generator (run in its own process) -------------------------------------------


@dataclass
class Sample:
    kind: str
    latency_ms: float
    status: int


@dataclass
class Stats:
    rate: float
    duration: float
    samples: list[Sample] = field(default_factory=list)

    @staticmethod
    def percentile(values: list[float], p: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    def summary(self, kind: str | None = None) -> dict:
        chosen = [s for s in self.samples if kind is None or s.kind == kind]
        ok = [s.latency_ms for s in chosen]
        errors = sum(1 for s in chosen if not 200 <= s.status < 300)
        return {
            "requests": len(chosen),
            "rps": round(len(chosen) / self.duration, 1),
            "errors": errors,
            "p50_ms": round(self.percentile(ok, 50), 1),
            "p95_ms": round(self.percentile(ok, 95), 1),
            "p99_ms": round(self.percentile(ok, 99), 1),
            "max_ms": round(max(ok), 1) if ok else float("nan"),
        }


def drive(port: int, context: dict, rate: float, duration: float, threads: int = 256, seed: int = 1) -> Stats:
    rng = random.Random(seed)
    weighted = [t for t in TARGETS for _ in range(t.weight)]
    total = int(rate * duration)
    plan = [(i / rate, (chosen := rng.choice(weighted)).name, chosen.path(context, rng)) for i in range(total)]
    work: queue.Queue = queue.Queue()
    samples: list[Sample] = []
    lock = threading.Lock()
    headers = {"Authorization": f"Token {context['token']}", "Accept": "application/json"}
    start = time.perf_counter() + 0.5

    def worker() -> None:
        while True:
            item = work.get()
            if item is None:
                return
            offset, kind, path = item
            scheduled = start + offset
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            status = 0
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                conn.close()
            except OSError:
                status = 0
            latency = (time.perf_counter() - scheduled) * 1000
            with lock:
                samples.append(Sample(kind, latency, status))

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for item in plan:
        work.put(item)
    for _ in pool:
        work.put(None)
    for thread in pool:
        thread.join()
    return Stats(rate=rate, duration=duration, samples=samples)


def run_driver(args: argparse.Namespace) -> None:
    """--drive: the load generator's own process; prints its samples' summary as JSON."""
    context = json.loads(Path(args.context).read_text())
    stats = drive(args.port, context, args.rate, args.duration)
    kinds = sorted({s.kind for s in stats.samples})
    print(json.dumps({"all": stats.summary(), **{k: stats.summary(k) for k in kinds}}, ensure_ascii=False))


def drive_in_subprocess(port: int, context_file: Path, rate: float, duration: float) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--drive", "--port", str(port), "--context", str(context_file),
         "--rate", str(rate), "--duration", str(duration)],
        capture_output=True, text=True, cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(title: str, result: dict) -> None:
    print(f"\n{title}")
    print(f"  {'requests':<34}{'n':>7}{'rps':>8}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind, row in result.items():
        print(f"  {kind:<34}{row['requests']:>7}{row['rps']:>8}{row['errors']:>8}{row['p50_ms']:>9}"
              f"{row['p95_ms']:>9}{row['p99_ms']:>9}{row['max_ms']:>9}")


def saturation(port: int, context_file: Path, start: float, step_seconds: float, limit: float) -> tuple[float, list]:
    """Raise the rate until p95 passes the limit (or errors appear), then halve the gap twice."""
    history = []
    good, bad = 0.0, None
    rate = start
    while rate <= limit:
        result = drive_in_subprocess(port, context_file, rate, step_seconds)["all"]
        ok = result["p95_ms"] < P95_LIMIT_MS and result["errors"] == 0
        history.append((rate, result))
        print(f"  {rate:>6.0f} req/s: p95 {result['p95_ms']:>8} ms, errors {result['errors']}  {'ok' if ok else 'saturated'}",
              flush=True)
        if not ok:
            bad = rate
            break
        good = rate
        rate = rate * 1.5
    if bad is not None:
        for _ in range(2):
            middle = round((good + bad) / 2)
            if middle in (good, bad):
                break
            result = drive_in_subprocess(port, context_file, middle, step_seconds)["all"]
            ok = result["p95_ms"] < P95_LIMIT_MS and result["errors"] == 0
            history.append((middle, result))
            print(f"  {middle:>6.0f} req/s: p95 {result['p95_ms']:>8} ms, errors {result['errors']}  "
                  f"{'ok' if ok else 'saturated'}", flush=True)
            good, bad = (middle, bad) if ok else (good, middle)
    return good, history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=50.0, help="fixed arrival rate, requests per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds at the fixed rate")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--database", default="legaltrack_api_bench")
    parser.add_argument("--no-saturation", action="store_true", help="skip the saturation search")
    parser.add_argument("--step-seconds", type=float, default=15.0, help="seconds per saturation step")
    parser.add_argument("--max-rate", type=float, default=2000.0)
    # internal: the load generator's own process
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--context", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        run_driver(args)
        return

    url = database_url(args.database)
    ensure_database(args.database)
    setup_django(url)
    context = seed(args.staff)
    context_file = ROOT / "var" / "bench-api-context.json"
    context_file.parent.mkdir(parents=True, exist_ok=True)
    context_file.write_text(json.dumps(context))
    port = free_port()
    server = start_gunicorn(url, port, args.workers)
    try:
        drive_in_subprocess(port, context_file, 20, 3)  # warm up: connections, caches
        print(f"\nREST API on gunicorn ({args.workers} workers), PostgreSQL, {args.staff} staff; "
              f"open-loop load from another process at {args.rate:.0f} req/s for {args.duration:.0f} s, "
              f"as a legal_office user exempt from rate limits")
        load_before = os.getloadavg()[0]
        result = drive_in_subprocess(port, context_file, args.rate, args.duration)
        print_table(f"fixed rate {args.rate:.0f} req/s", result)
        # the machine is shared: a high load average from other processes makes the figures pessimistic
        print(f"  load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}; "
              f"{os.cpu_count()} CPUs")
        if not args.no_saturation:
            print(f"\nsaturation search ({args.step_seconds:.0f} s per step, p95 < {P95_LIMIT_MS:.0f} ms, no errors):")
            best, _ = saturation(port, context_file, max(args.rate, 50.0), args.step_seconds, args.max_rate)
            print(f"saturation throughput: {best:.0f} req/s (highest rate with p95 < {P95_LIMIT_MS:.0f} ms); "
                  f"load average (1 min) now {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        context_file.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
