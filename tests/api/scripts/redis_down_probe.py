"""Run in a subprocess by tests/jobs/test_redis_outage.py, with CELERY_BROKER_URL and
REDIS_CACHE_URL pointing at a Redis that is not there: sign in, read, and upload a roster and
exam results through the API (throttled as in production), and print, as JSON, what each
request answered."""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from access.services import user_role_set  # noqa: E402
from exams.creation import exam_create  # noqa: E402
from roster.models import RosterSync  # noqa: E402
from sheets.models import ImportRecord  # noqa: E402

call_command("migrate", verbosity=0)
PASSWORD = "Zq8!long-enough-pass"
user_role_set(username="hr", role="hr", password=PASSWORD)
user_role_set(username="legal", role="legal_office", password=PASSWORD)
today = django.utils.timezone.localdate()
exam = exam_create(name="学法用法考试", year=today.year, kind="annual_law", opens_on=today, closes_on=today)
out: dict = {"eager": django.conf.settings.CELERY_TASK_ALWAYS_EAGER}
started = time.monotonic()
client = APIClient()
answer = client.post("/api/v1/auth/token/", {"username": "hr", "password": PASSWORD}, format="json")
out["token"] = answer.status_code
client.credentials(HTTP_AUTHORIZATION=f"Token {answer.json().get('token', '')}")
out["units"] = client.get("/api/v1/units/").status_code
upload = SimpleUploadedFile("roster.csv", "工号,姓名,身份证号,单位\n".encode(), content_type="text/csv")
answer = client.post("/api/v1/roster/syncs/", {"file": upload}, format="multipart")
out["roster_upload"] = answer.status_code
out["roster_kept"] = RosterSync.objects.filter(pk=answer.json().get("id")).values_list("status", flat=True).first()
legal = APIClient()
token = legal.post("/api/v1/auth/token/", {"username": "legal", "password": PASSWORD}, format="json").json()["token"]
legal.credentials(HTTP_AUTHORIZATION=f"Token {token}")
upload = SimpleUploadedFile("results.csv", "姓名,工号,身份证号,单位,成绩\n".encode(), content_type="text/csv")
answer = legal.post(f"/api/v1/exams/{exam.pk}/results/", {"file": upload}, format="multipart")
out["results_upload"] = answer.status_code
out["results_kept"] = ImportRecord.objects.filter(pk=answer.json().get("id")).values_list("status", flat=True).first()
out["elapsed"] = time.monotonic() - started
print(json.dumps(out))
