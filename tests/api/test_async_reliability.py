"""Reliability of the asynchronous endpoints: the broker being down, the sweeper, and task
arguments that carry ids only."""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from celery.signals import before_task_publish, task_prerun
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from config.jobs import JobStatus
from config.tasks import redispatch_stale_jobs
from roster.models import RosterSync, Staff
from roster.sync import roster_sync_create
from sheets.models import ImportRecord
from tests.helpers import csv_bytes, people

ROOT = Path(settings.BASE_DIR)
PROBE = ROOT / "tests" / "api" / "scripts" / "broker_down_probe.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_probe(tmp_path: Path, broker_url: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        "PRIVATE_UPLOAD_ROOT": str(tmp_path / "uploads"),
        "CELERY_BROKER_URL": broker_url,
        "DJANGO_ENV": "development",
    }
    done = subprocess.run([sys.executable, str(PROBE)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_post_answers_within_5_s_with_the_record_queued_when_the_broker_port_is_closed(tmp_path):
    outcome = run_probe(tmp_path, f"redis://127.0.0.1:{free_port()}/5")
    assert outcome["eager"] is False
    assert outcome["status_code"] == 202
    assert outcome["status"] == outcome["stored_status"] == "queued"
    assert outcome["elapsed"] < 5


def test_post_answers_within_5_s_when_the_broker_accepts_but_never_answers(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)  # connections are accepted by the kernel; nothing ever replies
    try:
        outcome = run_probe(tmp_path, f"redis://127.0.0.1:{listener.getsockname()[1]}/5")
    finally:
        listener.close()
    assert outcome["status_code"] == 202 and outcome["stored_status"] == "queued"
    assert outcome["elapsed"] < 5


# --- the sweeper ------------------------------------------------------------------------


@pytest.fixture
def eager_celery():
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_sweeper_runs_on_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["jobs-redispatch-stale"]
    assert entry["task"] == "config.tasks.redispatch_stale_jobs" and entry["schedule"] <= 60


@pytest.mark.django_db
def test_sweeper_redispatches_a_sync_left_queued(units, eager_celery):
    sync = roster_sync_create(file=csv_bytes(people(3)), file_name="lost.csv")
    RosterSync.objects.filter(pk=sync.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert redispatch_stale_jobs()["roster_sync"] == 1
    sync.refresh_from_db()
    assert sync.status == JobStatus.SUCCEEDED and Staff.objects.count() == 3


@pytest.mark.django_db
def test_sweeper_leaves_a_freshly_queued_sync_alone(units, eager_celery):
    sync = roster_sync_create(file=csv_bytes(people(1)), file_name="new.csv")
    assert redispatch_stale_jobs()["roster_sync"] == 0
    sync.refresh_from_db()
    assert sync.status == JobStatus.QUEUED


@pytest.mark.django_db
def test_sweeper_reruns_a_sync_whose_worker_died(units, eager_celery):
    sync = roster_sync_create(file=csv_bytes(people(2)), file_name="died.csv")
    past = timezone.now() - dt.timedelta(seconds=1)
    RosterSync.objects.filter(pk=sync.pk).update(status=JobStatus.RUNNING, attempts=1, lease_expires_at=past)
    assert redispatch_stale_jobs()["roster_sync"] == 1
    sync.refresh_from_db()
    assert sync.status == JobStatus.SUCCEEDED and sync.attempts == 2 and sync.created == 2


@pytest.mark.django_db
def test_sweeper_leaves_a_running_sync_with_a_live_lease_alone(units, eager_celery):
    sync = roster_sync_create(file=csv_bytes(people(2)), file_name="busy.csv")
    RosterSync.objects.filter(pk=sync.pk).update(
        status=JobStatus.RUNNING, lease_expires_at=timezone.now() + dt.timedelta(minutes=1)
    )
    assert redispatch_stale_jobs()["roster_sync"] == 0


# --- task arguments: ids only -----------------------------------------------------------


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@pytest.mark.django_db
def test_every_task_published_by_the_async_endpoints_carries_ids_only(personas, units,
                                                                      django_capture_on_commit_callbacks):
    """Whatever the mode: published messages (broker) or eager runs (no broker) are inspected."""
    from config.celery import app

    calls: list[tuple[str, tuple, dict]] = []

    def on_publish(sender=None, body=None, **kwargs):
        args, task_kwargs = body[0], body[1]
        calls.append((sender, tuple(args), dict(task_kwargs)))

    def on_prerun(sender=None, task=None, args=None, kwargs=None, **extra):
        calls.append((task.name, tuple(args or ()), dict(kwargs or {})))

    before_task_publish.connect(on_publish)
    task_prerun.connect(on_prerun)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            upload = SimpleUploadedFile("roster.csv", csv_bytes(people(2)), content_type="text/csv")
            response = personas["hr"].client().post("/api/v1/roster/syncs/", {"file": upload}, format="multipart")
        assert response.status_code == 202
        stale = roster_sync_create(file=csv_bytes(people(1, start=50)), file_name="stale.csv")
        RosterSync.objects.filter(pk=stale.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
        redispatch_stale_jobs.apply() if app.conf.task_always_eager else redispatch_stale_jobs()
    finally:
        before_task_publish.disconnect(on_publish)
        task_prerun.disconnect(on_prerun)
        if not app.conf.task_always_eager:
            app.control.purge()
    names = {name for name, _, _ in calls}
    assert "roster.tasks.sync_roster" in names
    for name, args, kwargs in calls:
        assert all(_is_id(a) for a in args), (name, args)
        assert all(_is_id(v) for v in kwargs.values()), (name, kwargs)


def _call_sites() -> list[tuple[Path, ast.Call]]:
    sites = []
    for path in ROOT.rglob("*.py"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & {".venv", "tests", "migrations", "bench", "node_modules"}:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"delay", "apply_async", "send_task", "delay_on_commit", "apply_async_on_commit"}
            ):
                sites.append((path, node))
    return sites


def _looks_like_an_id(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return _is_id(node.value) or node.value is None
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
    return name is not None and (name in {"pk", "id"} or name.endswith("_id") or name.endswith("_pk"))


def test_every_task_call_in_the_code_passes_ids_only():
    """A static companion to the runtime check: every .delay()/.apply_async() argument in the
    code base is an id (a name like pk, id, sync_id, or an int)."""
    sites = _call_sites()
    assert sites, "no task calls found: the scan is broken"
    offenders = []
    for path, call in sites:
        if call.func.attr == "apply_async":
            values = []
            for keyword in call.keywords:
                if keyword.arg in ("args", "kwargs") and isinstance(keyword.value, (ast.Tuple, ast.List)):
                    values += keyword.value.elts
                elif keyword.arg == "kwargs" and isinstance(keyword.value, ast.Dict):
                    values += keyword.value.values
            for arg in call.args:
                values += arg.elts if isinstance(arg, (ast.Tuple, ast.List)) else [arg]
        else:
            values = [*call.args, *(k.value for k in call.keywords)]
            if call.func.attr == "send_task":
                values = values[1:]
        for value in values:
            if not _looks_like_an_id(value):
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno} {ast.unparse(value)}")
    assert not offenders, offenders


@pytest.mark.django_db
def test_results_import_and_report_tasks_carry_ids_only(personas, activity, district,
                                                        django_capture_on_commit_callbacks):
    """The results upload's task, the snapshot refresh and the annual report job: whatever the
    mode, every task call (published or run eagerly) carries record ids only."""
    from config.celery import app
    from exams.models import Exam
    from reports.annual import annual_report_job_create
    from reports.tasks import refresh_snapshots_scheduled
    from tests.api.conftest import RESULT_HEADER, result_rows

    calls: list[tuple[str, tuple, dict]] = []

    def on_publish(sender=None, body=None, **kwargs):
        calls.append((sender, tuple(body[0]), dict(body[1])))

    def on_prerun(sender=None, task=None, args=None, kwargs=None, **extra):
        calls.append((task.name, tuple(args or ()), dict(kwargs or {})))

    before_task_publish.connect(on_publish)
    task_prerun.connect(on_prerun)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            data = csv_bytes(result_rows([(district.a[3], 88)]), header=RESULT_HEADER)
            upload = SimpleUploadedFile("results.csv", data, content_type="text/csv")
            response = personas["legal_office"].client().post(
                f"/api/v1/exams/{activity.exam.pk}/results/", {"file": upload}, format="multipart")
            assert response.status_code == 202
        with django_capture_on_commit_callbacks(execute=True):
            refresh_snapshots_scheduled.apply() if app.conf.task_always_eager else refresh_snapshots_scheduled()
            annual_report_job_create(year=activity.year, format="json", started_by=personas["legal_office"].user)
        # records left behind, re-sent by the sweeper
        from exams.imports import exam_import_create
        from sheets.models import ImportKind

        stale = exam_import_create(exam=Exam.objects.get(pk=activity.exam.pk), kind=ImportKind.EXAM_RESULTS,
                                   file=data, file_name="lost.csv")
        ImportRecord.objects.filter(pk=stale.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
        with django_capture_on_commit_callbacks(execute=True):
            redispatch_stale_jobs.apply() if app.conf.task_always_eager else redispatch_stale_jobs()
    finally:
        before_task_publish.disconnect(on_publish)
        task_prerun.disconnect(on_prerun)
        if not app.conf.task_always_eager:
            app.control.purge()
    names = {name for name, _, _ in calls}
    assert {"exams.tasks.run_exam_import", "reports.tasks.refresh_snapshots", "reports.tasks.run_annual_report"} <= names
    assert sum(1 for name, _, _ in calls if name == "exams.tasks.run_exam_import") >= 2
    for name, args, kwargs in calls:
        assert all(_is_id(a) for a in args), (name, args)
        assert all(_is_id(v) for v in kwargs.values()), (name, kwargs)
