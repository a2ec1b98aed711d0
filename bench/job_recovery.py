"""Job recovery after a kill (PostgreSQL, Redis, a real Celery worker and beat). Prints
figures; it is not a test.

    .venv/bin/python bench/job_recovery.py [--people 20000] [--broker redis://127.0.0.1:6379/7]

With the default lease settings (JOB_LEASE_SECONDS=30, JOB_HEARTBEAT_SECONDS=10, the sweeper
every JOB_SWEEP_SECONDS=15), a re-sync of ``--people`` rows (5% changed, 1% new, 1% gone) is
run by the worker and killed mid-apply, in two ways:
- ``pool child``: SIGKILL of the prefork child running the sync (the main worker lives on);
- ``main worker``: SIGKILL of the main worker process and its pool child at once (the OOM
  killer's or a container's kill), then a new worker started, as compose's restart does.
For each it prints the wait from the kill to the re-run (the new attempt's start) and to the
finish, and whether the roster and its history are identical, row for row, to a clean run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
DATABASE = "legaltrack_bench_recovery"


def setup(database: str, broker: str, queue: str, uploads: Path) -> dict[str, str]:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOB_", "FIELD_"))}
    env.update(DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}", CELERY_BROKER_URL=broker,
               CELERY_QUEUE_PREFIX=f"{queue}-", CELERY_TASK_DEFAULT_QUEUE=queue, READYZ_QUEUES=queue,
               PRIVATE_UPLOAD_ROOT=str(uploads),
               DJANGO_ENV="development", DJANGO_SETTINGS_MODULE="config.settings")
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def start(argv: list[str], env: dict[str, str], log: Path, ready: str) -> subprocess.Popen:
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 90
    while ready not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{argv[3]} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return process


def worker_queues(env: dict[str, str]) -> str:
    """The ``-Q`` list of a worker taking every queue of the environment's prefix (config/queues.py)."""
    from config.queues import QUEUES

    prefix = env.get("CELERY_QUEUE_PREFIX", "")
    return ",".join([env.get("CELERY_TASK_DEFAULT_QUEUE") or f"{prefix}celery", *(f"{prefix}{q}" for q in QUEUES)])


def worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    log.write_text("")
    return start([sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "1",
                  "-Q", worker_queues(env),
                  "--loglevel=INFO", "-n", f"recovery-{uuid.uuid4().hex[:6]}@%h", "--without-gossip",
                  "--without-mingle", "--without-heartbeat"], env, log, "ready.")


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE roster_staffchange, roster_staff, roster_rostersync RESTART IDENTITY CASCADE")


def snapshot() -> tuple[str, int]:
    from roster.models import Staff, StaffChange

    digest = hashlib.sha256()
    for row in Staff.objects.order_by("staff_no").values_list(
        "staff_no", "name", "unit_id", "is_active", "id_number_hash", "position", "phone", "left_on"
    ).iterator(chunk_size=5000):
        digest.update(repr(row).encode())
    history = sorted(StaffChange.objects.values_list("staff__staff_no", "field", "old_value", "new_value", "kind"))
    digest.update(repr(history).encode())
    return digest.hexdigest(), len(history)


def baseline(rows: list[list[str]], folder: Path) -> None:
    from roster_sync import write_csv

    from roster.models import SyncMode
    from roster.sync import roster_sync, roster_sync_create

    path = folder / "baseline.csv"
    write_csv(path, rows)
    record = roster_sync_create(file=path.read_bytes(), file_name="baseline.csv", mode=SyncMode.FULL,
                                allow_mass_deactivation=True)
    outcome = roster_sync(sync=record)  # in this process: the starting state of every case
    assert outcome.applied, outcome.message


def submit(rows: list[list[str]], folder: Path) -> int:
    from roster_sync import write_csv

    from config.jobs import job_dispatch
    from roster.sync import roster_sync_create

    path = folder / "resync.csv"
    write_csv(path, rows)
    record = roster_sync_create(file=path.read_bytes(), file_name="resync.csv", allow_mass_deactivation=True)
    job_dispatch(kind="roster_sync", pk=record.pk)
    return record.pk


def wait(pk: int, predicate, timeout: float, what: str):
    from roster.models import RosterSync

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sync = RosterSync.objects.get(pk=pk)
        if predicate(sync):
            return sync
        time.sleep(0.05)
    raise SystemExit(f"{what}: not within {timeout:.0f}s (status {RosterSync.objects.get(pk=pk).status})")


def mid_apply(sync) -> bool:
    return sync.status == "running" and sync.progress_total and sync.progress_done >= sync.progress_total // 2


class Missed(Exception):
    """The sync finished before the kill landed: the case is run again."""


def case(name: str, rows_before, rows_after, folder: Path, env, logs: Path, state: dict, *,
         delay: float = 0.3, timeout: float = 180) -> dict:
    for _ in range(4):
        try:
            return _case(name, rows_before, rows_after, folder, env, logs, state, delay=delay, timeout=timeout)
        except Missed:
            delay /= 3
    raise SystemExit(f"{name}: the sync finished before every kill")


def _case(name, rows_before, rows_after, folder, env, logs, state, *, delay: float, timeout: float) -> dict:
    from roster.models import RosterSync

    reset()
    baseline(rows_before, folder)
    pk = submit(rows_after, folder)
    wait(pk, mid_apply, 300, f"{name}: the sync reaching its apply")
    time.sleep(delay)  # inside the apply's transaction
    running = state["worker"]
    if name == "clean":
        sync = wait(pk, lambda s: s.status in ("succeeded", "failed", "refused"), timeout, "clean run")
        return {"status": sync.status, "attempts": sync.attempts, "snapshot": snapshot()}
    killed_at = time.time()
    if name == "pool child":
        [child, *_] = children(running.pid)
        os.kill(child, signal.SIGKILL)
    else:
        os.killpg(running.pid, signal.SIGKILL)  # the main worker and its child, at once
        running.wait()
    if RosterSync.objects.get(pk=pk).status != "running":
        if name != "pool child":
            state["worker"] = worker(env, logs / "worker.log")
        raise Missed
    if name != "pool child":
        state["worker"] = worker(env, logs / "worker.log")  # as compose's restart: unless-stopped does
    rerun = wait(pk, lambda s: s.attempts >= 2 and s.started_at and s.started_at.timestamp() > killed_at, timeout,
                 f"{name}: the re-run")
    done = wait(pk, lambda s: s.status in ("succeeded", "failed", "refused"), timeout, f"{name}: the finish")
    return {
        "status": done.status, "attempts": RosterSync.objects.get(pk=pk).attempts,
        "kill_to_rerun_s": round(rerun.started_at.timestamp() - killed_at, 1),
        "kill_to_finish_s": round(done.finished_at.timestamp() - killed_at, 1),
        "snapshot": snapshot(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/7"))
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-recovery-"))
    queue = f"bench-recovery-{uuid.uuid4().hex[:6]}"
    env = setup(args.database, args.broker, queue, folder / "uploads")
    from roster_sync import ensure_units, make_people, resync_people

    ensure_units()
    before = make_people(args.people)
    after = resync_people(before)
    state = {"worker": worker(env, folder / "worker.log")}
    beat = start([sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
                  "-s", str(folder / "beat-schedule")], env, folder / "beat.log", "beat: Starting")
    results: dict[str, dict] = {}
    try:
        for name in ("clean", "pool child", "main worker"):
            started = time.monotonic()
            results[name] = case(name, before, after, folder, env, folder, state)
            results[name]["case_s"] = round(time.monotonic() - started, 1)
    finally:
        for process in (state["worker"], beat):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    clean = results["clean"]["snapshot"]
    print(f"job recovery after a kill: re-sync of {args.people} people ({len(after)} rows), lease 30 s, "
          f"heartbeat 10 s, sweeper 15 s")
    for name in ("pool child", "main worker"):
        r = results[name]
        print(f"  {name:11s} SIGKILL mid-apply: re-run {r['kill_to_rerun_s']:5.1f} s after the kill, finished "
              f"{r['kill_to_finish_s']:5.1f} s after; {r['status']}, attempts {r['attempts']}; "
              f"identical to a clean run: {r['snapshot'] == clean} ({r['snapshot'][1]} history rows)")
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "snapshot"} for k, v in results.items()},
                     ensure_ascii=False))
    from django.db import connections

    connections.close_all()
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", args.database])


if __name__ == "__main__":
    main()
