"""/metrics: the Prometheus text format with the request, login, job, import, snapshot, reminder
and Celery task series; METRICS_TOKEN as a bearer token; 404 in production without one; and the
values of several processes summed through PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from roster.models import RosterSync
from roster.sync import roster_sync, roster_sync_create
from tests.conftest import ROOT
from tests.helpers import csv_bytes, people

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_logins_jobs_imports_and_reminders_are_counted(client, units):
    before = scrape(client)
    assert client.get("/healthz").status_code == 200
    bad = client.post("/api/v1/auth/token/", {"username": "nobody", "password": "wrong-password"},
                      content_type="application/json")
    assert bad.status_code in (400, 401)
    done = roster_sync(sync=roster_sync_create(file=csv_bytes(people(7)), file_name="r.csv"))
    assert done.applied
    waiting = roster_sync_create(file=csv_bytes(people(2, start=50)), file_name="later.csv")
    RosterSync.objects.filter(pk=waiting.pk).update(created_at=waiting.created_at.replace(year=2020))
    after = scrape(client)

    healthz = {"view": "healthz", "method": "GET", "status": "200"}
    assert value(after, "legaltrack_http_requests_total", **healthz) == value(before, "legaltrack_http_requests_total", **healthz) + 1
    count = "legaltrack_http_request_duration_seconds_count"
    assert value(after, count, view="healthz", method="GET") == value(before, count, view="healthz", method="GET") + 1
    failures = "legaltrack_login_failures_total"
    assert value(after, failures, reason="bad_credentials") == value(before, failures, reason="bad_credentials") + 1
    assert value(after, "legaltrack_jobs", kind="roster_sync", status="succeeded") == 1
    assert value(after, "legaltrack_jobs", kind="roster_sync", status="queued") == 1
    assert value(after, "legaltrack_jobs", kind="exam_import", status="queued") == 0  # every kind, every status
    assert value(after, "legaltrack_job_oldest_age_seconds", kind="roster_sync", status="queued") > 86400 * 300
    assert value(after, "legaltrack_job_oldest_age_seconds", kind="roster_sync", status="running") == 0
    assert value(after, "legaltrack_imported_rows", kind="roster") == 7
    assert value(after, "legaltrack_snapshot_refresh_age_seconds") != 0
    assert ("legaltrack_reminder_messages", (("status", "sent"),)) in after


def test_a_throttled_login_and_celery_tasks_are_counted(client, settings):
    from config.tasks import redispatch_stale_jobs

    before = scrape(client)
    redispatch_stale_jobs.delay()
    for _ in range(7):  # the 6th wrong password within the window is refused
        client.post("/api/v1/auth/token/", {"username": "nobody", "password": "wrong-password"},
                    content_type="application/json")
    after = scrape(client)
    task = {"task": "config.tasks.redispatch_stale_jobs", "state": "SUCCESS"}
    assert value(after, "legaltrack_celery_tasks_total", **task) == value(before, "legaltrack_celery_tasks_total", **task) + 1
    seconds = "legaltrack_celery_task_duration_seconds_count"
    assert value(after, seconds, task=task["task"]) == value(before, seconds, task=task["task"]) + 1
    throttled = "legaltrack_login_failures_total"
    assert value(after, throttled, reason="throttled") > value(before, throttled, reason="throttled")


def test_the_token_is_required_when_set_and_production_without_one_is_404(client, settings):
    settings.METRICS_TOKEN = "metrics-secret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert "legaltrack_jobs" in client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-secret").content.decode()
    settings.METRICS_TOKEN = ""
    settings.PRODUCTION = True
    assert client.get("/metrics").status_code == 404


REQUEST = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
from django.test import Client
print(Client().get("/healthz").status_code)
"""

SCRAPE = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
from django.test import Client
print(Client().get("/metrics").content.decode())
"""


@pytest.mark.django_db(transaction=False)
def test_values_of_several_processes_are_summed_through_the_multiprocess_directory(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "FIELD_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'm.sqlite3'}", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"))
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    for _ in range(3):  # three processes, as three gunicorn workers
        done = subprocess.run([sys.executable, "-c", REQUEST], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.stdout.strip() == "200", done.stderr
    text = subprocess.run([sys.executable, "-c", SCRAPE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120).stdout
    line = next(line for line in text.splitlines()
                if line.startswith("legaltrack_http_requests_total{") and 'view="healthz"' in line)
    assert line.endswith(" 3.0"), line
