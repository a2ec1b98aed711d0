"""Run in a subprocess by tests/jobs/test_signin_sweep.py: import a sign-in sheet that hangs
in its apply (so that the test can SIGKILL this process mid-import)."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from training import attendance  # noqa: E402


def hang(**kwargs):
    print("applying", flush=True)
    time.sleep(3600)


attendance._apply_sheet = hang
attendance.attendance_import_sheet(
    data="姓名,单位\n张三,测试区财政局\n".encode(), file_name="签到表.csv", title="普法讲座", kind="lecture",
    date=dt.date(2026, 5, 20), hours=2,
)
