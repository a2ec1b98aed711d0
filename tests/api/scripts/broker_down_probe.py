"""Run in a subprocess by tests/api/test_async_reliability.py, with CELERY_BROKER_URL pointing
at a broker that does not answer: POST a roster sync through the API and print, as JSON, how
long the request took and what it answered."""

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
from roster.models import RosterSync  # noqa: E402

call_command("migrate", verbosity=0)
role, _ = user_role_set(username="hr", role="hr", password="Zq8!long-enough-pass")
client = APIClient()
client.force_authenticate(role.user)
upload = SimpleUploadedFile("roster.csv", "工号,姓名,身份证号,单位\n".encode(), content_type="text/csv")
started = time.monotonic()
response = client.post("/api/v1/roster/syncs/", {"file": upload}, format="multipart")
elapsed = time.monotonic() - started
body = response.json()
record = RosterSync.objects.get(pk=body["id"])
print(json.dumps({"status_code": response.status_code, "elapsed": elapsed, "status": body["status"],
                  "stored_status": record.status, "eager": django.conf.settings.CELERY_TASK_ALWAYS_EAGER}))
