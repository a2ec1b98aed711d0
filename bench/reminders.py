"""Reminders benchmark on PostgreSQL: the not-sat digests of 2,000 units sent to local receivers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/legaltrack_reminders_bench python bench/reminders.py

A district of 2,000 units (a root, 399 bureaus of 4 sub-units each, more units under the root)
with 20 people each (40,000 candidates, 60% sat). Every unit has a group robot (half WeCom, half
signed DingTalk) pointing at a local HTTP server that answers like the real ones and checks the
DingTalk signature; each bureau has a liaison whose email goes to a local SMTP server (aiosmtpd).

Prints: the digest's figures for every unit (and how many queries that took), the first run of
``remind_not_sat`` (decide, write the outbox, send 2,399 messages), the second run in the same
week (everything skipped), and a dry run. The database is created when missing and emptied.
"""

from __future__ import annotations

import json
import os
import random
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

UNITS = 2_000
MIDS = 399
PER_UNIT = 20
SAT_SHARE = 0.6
SECRET = "SECbench0123456789"


class Server(ThreadingHTTPServer):
    # the default listen backlog (5) drops concurrent senders' connections: they retry a second later
    request_queue_size = 128
    daemon_threads = True


def _serve(port_out, count, bad) -> None:
    """WeCom and DingTalk as a local HTTP server in a process of its own (so that it does not
    share the senders' interpreter): errcode 0, after checking DingTalk's sign."""
    import base64
    import hashlib
    import hmac
    import urllib.parse

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            ok = True
            if parts.path.startswith("/dingtalk"):
                mac = hmac.new(SECRET.encode(), f"{query.get('timestamp')}\n{SECRET}".encode(), hashlib.sha256)
                ok = base64.b64encode(mac.digest()).decode() == query.get("sign")
            with count.get_lock():
                count.value += 1
            if not ok:
                with bad.get_lock():
                    bad.value += 1
            body = json.dumps({"errcode": 0 if ok else 310000, "errmsg": "ok"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = Server(("127.0.0.1", 0), Handler)
    port_out.value = server.server_address[1]
    server.serve_forever()


class Receiver:
    def __init__(self) -> None:
        import multiprocessing

        port, self._count, self._bad = multiprocessing.Value("i", 0), multiprocessing.Value("i", 0), multiprocessing.Value("i", 0)
        self.process = multiprocessing.Process(target=_serve, args=(port, self._count, self._bad), daemon=True)
        self.process.start()
        while not port.value:
            time.sleep(0.05)
        self.port = port.value

    @property
    def count(self) -> int:
        return self._count.value

    @property
    def bad_signatures(self) -> int:
        return self._bad.value

    def url(self, kind: str, unit_id: int) -> str:
        return f"http://127.0.0.1:{self.port}/{kind}/{unit_id}?access_token=t{unit_id}"

    def stop(self) -> None:
        self.process.terminate()


def start_smtp():
    from aiosmtpd.controller import Controller

    class Handler:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            Handler.count += 1
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, Handler, port


def load_district(rng: random.Random) -> list[tuple[int, str]]:
    from django.db import connection
    from django.utils import timezone

    from roster import idnumbers
    from roster.demo import make_id_number, make_name

    units = [(1, "R", "全区", None, "/1/", 0)]
    next_id = 2
    for m in range(MIDS):
        mid = next_id
        next_id += 1
        units.append((mid, f"M{m:03d}", f"局{m:03d}", 1, f"/1/{mid}/", 1))
        for leaf in range(4):
            units.append((next_id, f"M{m:03d}-{leaf}", f"局{m:03d}下属{leaf}", mid, f"/1/{mid}/{next_id}/", 2))
            next_id += 1
    while len(units) < UNITS:
        units.append((next_id, f"X{next_id}", f"直属单位{next_id}", 1, f"/1/{next_id}/", 1))
        next_id += 1
    sealer, now, today, used, n = idnumbers.Sealer(), timezone.now(), timezone.localdate(), set(), 0
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE reminders_remindermessage, reminders_unitchannel, reminders_reminderjob, api_userrole,"
            " exams_attempt, exams_candidate, exams_exam, sheets_importrecord, roster_staffchange, roster_staff,"
            " roster_rostersync, roster_unit RESTART IDENTITY CASCADE"
        )
        cursor.execute("DELETE FROM auth_user WHERE username LIKE 'bench-liaison-%%'")
        with cursor.cursor.copy("COPY roster_unit (id, code, name, parent_id, path, depth, kind, is_active, sort_order) FROM STDIN") as copy:
            for unit_id, code, name, parent, path, depth in units:
                copy.write_row((unit_id, code, name, parent, path, depth, "other", True, unit_id))
        cursor.execute("SELECT setval(pg_get_serial_sequence('roster_unit', 'id'), %s)", [next_id])
        with cursor.cursor.copy(
            "COPY roster_staff (staff_no, name, gender, id_number_cipher, id_number_hash, id_number_masked, unit_id,"
            " position, category, is_head, enforcement_cert, phone, is_active, joined_on, created_at, updated_at) FROM STDIN"
        ) as copy:
            for unit_id, *_ in units:
                for i in range(PER_UNIT):
                    n += 1
                    id_number = make_id_number(rng)
                    while id_number in used:
                        id_number = make_id_number(rng)
                    used.add(id_number)
                    copy.write_row((f"{n:06d}", make_name(rng), "", sealer.encrypt(id_number), sealer.digest(id_number),
                                    idnumbers.mask(id_number), unit_id, "科员", "", i == 0, "", f"139{n:08d}", True,
                                    today, now, now))
        cursor.execute("ANALYZE roster_unit")
        cursor.execute("ANALYZE roster_staff")
    return [(u[0], u[1]) for u in units]


def main() -> None:
    from _common import setup_django

    setup_django("legaltrack_reminders_bench")  # creates the database when missing, migrates
    import datetime as dt

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from access.services import user_role_set
    from exams.creation import exam_create
    from exams.models import Candidate
    from reminders.models import Channel, ReminderMessage, UnitChannel
    from reminders.not_sat import not_sat_digest, remind_not_sat
    from roster import idnumbers

    rng = random.Random(14)
    started = time.perf_counter()
    units = load_district(rng)
    today = timezone.localdate()
    exam = exam_create(name="学法用法考试（基准）", year=today.year, kind="annual_law",
                       opens_on=today - dt.timedelta(days=20), closes_on=today + dt.timedelta(days=20))
    with connection.cursor() as cursor:  # 60% sat: the figures only read best_score
        cursor.execute(f"UPDATE {Candidate._meta.db_table} SET best_score = 80, attempt_count = 1, passed = true"
                       " WHERE exam_id = %s AND random() < %s", [exam.pk, SAT_SHARE])
    receiver = Receiver()
    UnitChannel.objects.bulk_create([
        UnitChannel(unit_id=unit_id, channel=Channel.WECOM if i % 2 == 0 else Channel.DINGTALK,
                    url_cipher=idnumbers.encrypt(receiver.url("wecom" if i % 2 == 0 else "dingtalk", unit_id)),
                    host="127.0.0.1", secret_cipher="" if i % 2 == 0 else idnumbers.encrypt(SECRET))
        for i, (unit_id, _) in enumerate(units)
    ], batch_size=1000)
    controller, smtp, port = start_smtp()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    for code in (code for _, code in units if code.startswith("M") and "-" not in code):
        user_role_set(username=f"bench-liaison-{code}", role="liaison", unit_code=code, email=f"{code.lower()}@example.gov.cn")
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    print(f"set-up: {UNITS} units, {Candidate.objects.filter(exam=exam).count()} candidates, "
          f"{UnitChannel.objects.count()} robots, {MIDS} liaisons with email ({time.perf_counter() - started:.1f} s)")
    print(f"REMINDER_CONCURRENCY={settings.REMINDER_CONCURRENCY}, CPUs={os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)

    with CaptureQueriesContext(connection) as queries:
        t = time.perf_counter()
        digest = not_sat_digest(exam=exam, today=today)
        figures_time = time.perf_counter() - t
    print(f"digest figures for all {len(digest.figures)} units: {figures_time:.3f} s, {len(queries)} queries")

    t = time.perf_counter()
    dry = remind_not_sat(exam_id=exam.pk, dry_run=True)
    print(f"dry run ({dry.count('would_send')} would_send): {time.perf_counter() - t:.3f} s")

    with CaptureQueriesContext(connection) as queries:
        t = time.perf_counter()
        report = remind_not_sat(exam_id=exam.pk)
        first = time.perf_counter() - t
    sent = report.count("sent")
    print(f"first run: {sent} sent, {report.count('failed')} failed in {first:.3f} s "
          f"({sent / first:.0f} messages/s; {len(queries)} queries, i.e. about "
          f"{len(queries) / max(sent, 1):.2f} per message: a claim per chunk, the marks of the answers in)")
    print(f"  receivers got {receiver.count} robot messages ({receiver.bad_signatures} bad DingTalk signatures) "
          f"and {smtp.count} mails; outbox rows sent: {ReminderMessage.objects.filter(status='sent').count()}")
    t = time.perf_counter()
    again = remind_not_sat(exam_id=exam.pk)
    print(f"second run in the same week: {again.count('skipped')} skipped, {again.count('sent')} sent "
          f"in {time.perf_counter() - t:.3f} s")
    controller.stop()
    receiver.stop()


if __name__ == "__main__":
    main()
