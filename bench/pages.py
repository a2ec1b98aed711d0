"""Server time of each web page on the demo district (PostgreSQL; not a timed test).

    python bench/pages.py                      # database legaltrack_web (created, migrated, seeded if empty)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/other python bench/pages.py
    python bench/pages.py --runs 20

Seeds the demo district (35 units, 2,085 staff, exams, training, snapshots) when the
database has no staff, else uses what is there. Gives four users their roles (hr,
legal_office, a liaison of the largest top-level unit, viewer), then requests every page
through Django's test client in this process, so the time is the server's own: routing,
middleware, the views' queries and the templates, no network. Prints the median and the
slowest of ``--runs`` requests per page (after one warm-up request) and the page's queries.
Target: every page under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/legaltrack_web")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("PRIVATE_UPLOAD_ROOT", str(ROOT / "var" / "bench-uploads"))
os.environ.pop("CELERY_BROKER_URL", None)

from bench._common import setup_django  # noqa: E402

TARGET_MS = 300
PASSWORD = "Bench-pages-2026!"


def seed_if_empty() -> str:
    from django.core.management import call_command

    from reports.models import ExamSnapshot
    from reports.snapshots import snapshots_refresh
    from roster.models import Staff

    if Staff.objects.exists():
        note = f"using the existing data ({Staff.objects.count()} staff)"
    else:
        call_command("seed_demo", verbosity=0)
        note = f"seeded the demo district ({Staff.objects.count()} staff)"
    if not ExamSnapshot.objects.exists():
        snapshots_refresh(everything=True)
        note += "; participation snapshots computed"
    return note


def users() -> dict[str, object]:
    from access.services import user_role_set
    from roster.models import Staff, Unit

    # the liaison looks after the top-level unit with the most staff in its subtree
    tops = list(Unit.objects.filter(depth=1))
    liaison_unit = max(tops, key=lambda u: Staff.objects.filter(unit__path__startswith=u.path).count(), default=None)
    made = {}
    for username, role, unit in (
        ("bench_hr", "hr", None),
        ("bench_legal", "legal_office", None),
        ("bench_liaison", "liaison", liaison_unit.code if liaison_unit else None),
        ("bench_viewer", "viewer", None),
    ):
        made[role] = user_role_set(username=username, role=role, unit_code=unit, password=PASSWORD)[0].user
    made["liaison_unit"] = liaison_unit
    return made


def pages(people: dict[str, object]) -> list[tuple[str, str, str]]:
    """(who, label, path) for every page."""
    from django.db.models import Count

    from exams.models import Exam
    from roster.models import RosterSync, Unit
    from sheets.models import ImportRecord
    from training.models import TrainingEvent

    today_exam = Exam.objects.filter(kind="annual_law").order_by("-year", "-opens_on").first()
    root = Unit.objects.filter(parent__isnull=True).order_by("sort_order", "code").first()
    liaison_unit = people["liaison_unit"]
    biggest_event = TrainingEvent.objects.annotate(n=Count("attendances")).order_by("-n").first()
    sync = RosterSync.objects.order_by("-id").first()
    record = ImportRecord.objects.filter(kind__in=["exam_results", "exam_exemptions"]).order_by("-rows").first()
    listed: list[tuple[str, str, str]] = [
        ("hr", "名册同步（上传与历次同步）", "/roster/"),
        ("legal_office", "考试列表", "/exams/"),
        ("legal_office", "新建考试", "/exams/new/"),
        ("legal_office", "培训活动列表", "/events/"),
    ]
    if sync:
        listed.append(("hr", "一次名册同步", f"/roster/syncs/{sync.pk}/"))
    if today_exam:
        listed += [
            ("legal_office", "考试详情", f"/exams/{today_exam.pk}/"),
            ("legal_office", f"未参考名单（全区 {root.code}）", f"/exams/{today_exam.pk}/not-sat/{root.code}/"),
            ("legal_office", "未参考名单 Excel（全区）", f"/exams/{today_exam.pk}/not-sat/{root.code}/xlsx/"),
        ]
        if liaison_unit:
            listed += [
                ("liaison", f"未参考名单（联络员 {liaison_unit.code}）", f"/exams/{today_exam.pk}/not-sat/{liaison_unit.code}/"),
                ("liaison", "考试列表（联络员）", "/exams/"),
            ]
    if record:
        listed.append(("legal_office", f"导入记录（{record.rows} 行）", f"/imports/{record.pk}/"))
    if biggest_event:
        listed += [
            ("legal_office", f"培训活动（{biggest_event.n} 条出勤）", f"/events/{biggest_event.pk}/"),
            ("legal_office", "签到二维码全屏", f"/events/{biggest_event.pk}/qr/"),
        ]
    if root:
        listed.append(("legal_office", f"单位统计（全区 {root.code}）", f"/units/{root.code}/"))
    if liaison_unit:
        listed.append(("liaison", f"单位统计（联络员 {liaison_unit.code}）", f"/units/{liaison_unit.code}/"))
    listed += [
        ("viewer", "年度报告", "/reports/annual/"),
        ("legal_office", "年度报告（法治办）", "/reports/annual/"),
    ]
    return listed


def measure(people: dict[str, object], runs: int) -> list[tuple[str, str, str, int, float, float, int]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients = {}
    for role in ("hr", "legal_office", "liaison", "viewer"):
        client = Client()
        client.force_login(people[role])
        clients[role] = client
    results = []
    for who, label, path in pages(people):
        client = clients[who]
        client.get(path)  # warm-up: templates compiled, caches filled
        times = []
        queries = 0
        status = 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
            queries, status = len(captured), response.status_code
        results.append((who, label, path, status, statistics.median(times), max(times), queries))
    return results


def pad(text: str, width: int) -> str:
    import unicodedata

    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - shown, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    database = os.environ["DATABASE_URL"].rsplit("/", 1)[-1]
    setup_django(database)
    print(f"database {database}: {seed_if_empty()}")
    people = users()
    results = measure(people, args.runs)
    print(f"\n{'role':<13} {pad('page', 36)} {'status':>6} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    slow = []
    for who, label, path, status, median, worst, queries in results:
        print(f"{who:<13} {pad(label, 36)} {status:>6} {median:>10.1f} {worst:>8.1f} {queries:>8}   {path}")
        if worst >= TARGET_MS or status >= 400:
            slow.append(path)
    print(f"\n{len(results)} pages, {args.runs} requests each; "
          + ("all under 300 ms." if not slow else f"over 300 ms or failing: {', '.join(slow)}"))


if __name__ == "__main__":
    main()
