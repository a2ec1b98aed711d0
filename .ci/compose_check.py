"""Validate docker-compose.yml and run each service's command natively (CI has no Docker
engine). Exits non-zero with a one-line reason on the first failure."""

from __future__ import annotations

import base64
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# a worker per queue (config/queues.py); the default queue rides with one of them
WORKER_SERVICES = ("worker-imports", "worker-reports", "worker-reminders")
REQUIRED_SERVICES = {"web", *WORKER_SERVICES, "beat", "postgres", "redis"}
APP_SERVICES = ("web", *WORKER_SERVICES, "beat")
SHARED_VARIABLES = {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DJANGO_ENV"}


def fail(message: str) -> None:
    print(f"compose check failed: {message}")
    sys.exit(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load() -> dict:
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = spec.get("services") or {}
    missing = REQUIRED_SERVICES - set(services)
    if missing:
        fail(f"missing services: {sorted(missing)}")
    for name in APP_SERVICES:
        service = services[name]
        if not service.get("command"):
            fail(f"{name} has no command")
        env = service.get("environment") or {}
        if SHARED_VARIABLES - set(env):
            fail(f"{name} lacks variables {sorted(SHARED_VARIABLES - set(env))}")
        if env["DATABASE_URL"].split("@")[-1].split(":")[0] != "postgres":
            fail(f"{name} does not point at the postgres service")
        if "redis://redis" not in env["CELERY_BROKER_URL"]:
            fail(f"{name} does not point at the redis service")
        if "depends_on" not in service:
            fail(f"{name} has no depends_on")
        if not (service.get("healthcheck") or {}).get("test"):
            fail(f"{name} has no healthcheck")
    if "gunicorn" not in str(services["web"]["command"]):
        fail("web does not run gunicorn")
    check_queues(services)
    if "beat" not in str(services["beat"]["command"]):
        fail("beat does not run celery beat")
    backup = services.get("backup") or {}
    if "manage.py backup" not in str(backup.get("command")) or "--keep-days" not in str(backup.get("command")):
        fail("no backup service running manage.py backup with --keep-days")
    if not any(str(volume).endswith(":/srv/backups") for volume in backup.get("volumes") or []):
        fail("the backup service keeps its files in no volume")
    beats = [name for name, service in services.items()
             if service.get("command") and "celery -A config beat" in command_of(service)]
    if beats != ["beat"] or (services["beat"].get("deploy") or {}).get("replicas", 1) != 1:
        fail(f"beat must run once, in one service with one replica (found {beats})")
    return services


def worker_queues_of(command: str) -> list[str]:
    argv = shlex.split(command)
    if argv[:4] != ["celery", "-A", "config", "worker"] or "-Q" not in argv:
        return []
    return argv[argv.index("-Q") + 1].split(",")


def check_queues(services: dict) -> None:
    """Each worker service takes its own queue; together they take every queue, the default one
    included, and no queue is taken by a service that is not a worker."""
    sys.path.insert(0, str(ROOT))
    from config.queues import DEFAULT, QUEUES

    taken: set[str] = set()
    for name in WORKER_SERVICES:
        queues = worker_queues_of(command_of(services[name]))
        if {"-B", "--beat"} & set(shlex.split(command_of(services[name]))):
            fail(f"{name} embeds beat (-B): beat must run once, in the beat service")
        if not queues:
            fail(f"{name} does not run a celery worker with -Q")
        if name.removeprefix("worker-") not in queues:
            fail(f"{name} does not take its queue {name.removeprefix('worker-')}")
        taken.update(queues)
    expected = {"celery" if queue == DEFAULT else queue for queue in (DEFAULT, *QUEUES)}
    if taken != expected:
        fail(f"the workers take {sorted(taken)}, not the queues {sorted(expected)}")


def native_env(tmp: Path, database: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_ENV="production",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        FIELD_ENCRYPTION_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{os.environ.get('COMPOSE_CHECK_REDIS_DB', '14')}",
        REDIS_CACHE_URL=f"redis://127.0.0.1:6379/{os.environ.get('COMPOSE_CHECK_REDIS_CACHE_DB', '15')}",
        ROSTER_DROP_DIR=str(tmp / "drop"),
        PRIVATE_UPLOAD_ROOT=str(tmp / "uploads"),
        PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
    )
    (tmp / "drop").mkdir()
    return env


def command_of(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else shlex.join(command)


def start(command: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(command, shell=True, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


def wait_for(predicate, seconds: float, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            fail(f"{what} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    fail(f"{what} did not become ready within {seconds:.0f}s:\n{log.read_text()[-3000:]}")


def main() -> None:
    services = load()
    database = os.environ.get("COMPOSE_CHECK_DATABASE", "legaltrack_compose_check")
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
    tmp = Path(tempfile.mkdtemp(prefix="compose-"))
    env = native_env(tmp, database)
    processes: list[subprocess.Popen] = []
    try:
        port = free_port()
        web_command = command_of(services["web"]).replace("0.0.0.0:8000", f"127.0.0.1:{port}")
        web_log = tmp / "web.log"
        web = start(web_command, env, web_log)
        processes.append(web)

        def web_answers() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    return response.status == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return False

        wait_for(web_answers, 90, web, web_log, "web")
        print("web: gunicorn answered /healthz")

        for name in WORKER_SERVICES:
            worker_log = tmp / f"{name}.log"
            worker = start(command_of(services[name]), env, worker_log)
            processes.append(worker)
            wait_for(lambda log=worker_log: "ready." in log.read_text(), 60, worker, worker_log, name)
            print(f"{name}: celery worker ready on {','.join(worker_queues_of(command_of(services[name])))}")

        beat_command = command_of(services["beat"]).replace("/tmp/celerybeat-schedule", str(tmp / "beat-schedule"))
        beat_log = tmp / "beat.log"
        beat = start(beat_command, env, beat_log)
        processes.append(beat)
        wait_for(lambda: "beat: Starting" in beat_log.read_text(), 60, beat, beat_log, "beat")
        print("beat: celery beat started")

        # the backup service's loop, natively: its first backup lands in the folder
        backups = tmp / "backups"
        backups.mkdir()
        backup_command = command_of(services["backup"]).replace("$$", "$").replace("/srv/backups", str(backups))
        backup_log = tmp / "backup.log"
        backup_env = {**env, "BACKUP_KEEP_DAYS": "14", "BACKUP_INTERVAL_SECONDS": "86400"}
        backup = start(backup_command, backup_env, backup_log)
        processes.append(backup)
        wait_for(lambda: any(backups.glob("legaltrack-*.backup")) and "已备份" in backup_log.read_text(), 90, backup,
                 backup_log, "backup")
        stop(backup)
        print("backup: the backup service wrote its first backup (pg_dump -Fc)")

        def ready() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                    return response.status == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return False

        wait_for(ready, 90, web, web_log, "/readyz (database, migrations, broker, workers, beat)")
        print("web: /readyz answered 200 with the workers and beat running")
        for name in APP_SERVICES:
            test = services[name]["healthcheck"]["test"]
            argv = test[1:] if test[0] == "CMD" else ["sh", "-c", test[1]]
            argv = [arg.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for arg in argv]
            done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                fail(f"{name}'s healthcheck failed: {done.stdout[-1000:]}{done.stderr[-1000:]}")
        print(f"healthchecks: {', '.join(APP_SERVICES)} pass their compose health checks")

        redis_port = free_port()
        redis_command = command_of(services["redis"]) + f" --port {redis_port} --bind 127.0.0.1 --dir {tmp}"
        redis_log = tmp / "redis.log"
        redis = start(redis_command, env, redis_log)
        processes.append(redis)
        wait_for(
            lambda: subprocess.run(["redis-cli", "-p", str(redis_port), "ping"], capture_output=True).stdout.strip() == b"PONG",
            20, redis, redis_log, "redis",
        )
        print("redis: redis-server answered")
        if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432"], capture_output=True).returncode != 0:
            fail("postgres does not answer")
        print("postgres: PostgreSQL 15 answers on 5432 (the image's own command is the server itself)")
    finally:
        for process in reversed(processes):
            stop(process)
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database])
        shutil.rmtree(tmp, ignore_errors=True)
    print("compose check passed")


if __name__ == "__main__":
    main()
