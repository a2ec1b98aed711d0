"""Every file that holds names with 工号 (or phones) writes an audit record: each command's
``-o``, each download of the pages (the API's are checked route by route in
tests/api/test_permission_matrix.py). A new command with ``-o`` or a new download page must be
added here (``test_the_list_is_complete``)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands
from django.urls import get_resolver
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from certificates.models import Certificate
from exams.models import Candidate
from roster.models import Staff, Unit
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import csv_bytes, people
from training.attendance import attendance_record
from training.events import training_event_create

pytestmark = pytest.mark.django_db


@dataclass
class World:
    district: object
    exam: object
    event: object
    personas: dict
    tmp: Path
    year: int

    @property
    def someone(self) -> str:
        return self.district.a[0].staff_no


@pytest.fixture
def world(personas, district, exam, tmp_path) -> World:
    today = timezone.localdate()
    event = training_event_create(title="讲座", kind="lecture", date=today, hours="2", organiser=Unit.objects.get(code="A"))
    ids = list(Staff.objects.filter(staff_no__in=[p.staff_no for p in district.a[:2]]).values_list("pk", flat=True))
    attendance_record(event=event, staff_ids=ids, status="present")
    Candidate.objects.filter(exam=exam, staff__staff_no=district.a[0].staff_no).update(best_score=80, attempt_count=1)
    for person in district.a:
        Certificate.objects.create(number=f"证{person.staff_no}", staff=Staff.objects.get(staff_no=person.staff_no),
                                   issued_on=today - dt.timedelta(days=100), expires_on=today + dt.timedelta(days=10))
    return World(district, exam, event, personas, tmp_path, today.year)


def _file(world: World, name: str) -> bytes:
    return (world.tmp / name).read_bytes()


def cli(*args: str, name: str) -> Callable[[World], bytes]:
    def run(world: World) -> bytes:
        values = [a.format(exam=world.exam.pk, year=world.year, staff_no=world.someone) for a in args]
        call_command(*values, "-o", str(world.tmp / name))
        return _file(world, name)

    return run


def web(path: str, persona: str = "legal_office") -> Callable[[World], bytes]:
    def run(world: World) -> bytes:
        url = path.format(exam=world.exam.pk, year=world.year, staff_no=world.someone, event=world.event.pk)
        response = world.personas[persona].client().get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.content

    return run


def roster_changes(world: World) -> bytes:
    moved = [*world.district.a, *people(2, "B", start=901)]
    sync = roster_sync_create(file=csv_bytes(moved + world.district.b + world.district.t1), file_name="r.csv",
                              dry_run=True)
    roster_sync(sync=sync)
    response = world.personas["hr"].client().get(f"/roster/syncs/{sync.pk}/changes.xlsx")
    assert response.status_code == 200
    return response.content


# (case, command or URL name it covers, how to make the file)
EXPORTS: list[tuple[str, str, Callable[[World], bytes]]] = [
    ("hours_below -o csv", "hours_below", cli("hours_below", "{year}", "--format", "csv", name="h.csv")),
    ("hours_below -o xlsx", "hours_below", cli("hours_below", "{year}", "--format", "xlsx", name="h.xlsx")),
    ("not_sat -o", "not_sat", cli("not_sat", "{exam}", "--format", "xlsx", name="n.xlsx")),
    ("certificates -o", "certificates", cli("certificates", "--format", "csv", name="c.csv")),
    ("learning_file -o", "learning_file", cli("learning_file", "{year}", "--unit", "A", "--format", "xlsx", name="l.xlsx")),
    ("staff_record -o", "staff_record", cli("staff_record", "{staff_no}", "--format", "docx", name="s.docx")),
    ("page: not-sat xlsx", "web:not_sat_xlsx", web("/exams/{exam}/not-sat/A/xlsx/")),
    ("page: hours-below csv", "web:hours_below_download", web("/training/hours-below.csv?unit=A")),
    ("page: hours-below xlsx", "web:hours_below_download", web("/training/hours-below.xlsx?unit=A")),
    ("page: sign-in sheet", "web:event_signin_sheet", web("/events/{event}/signin-sheet.docx?unit=A")),
    ("page: certificates due csv", "web:certificates_download", web("/certificates/due.csv")),
    ("page: certificates due xlsx", "web:certificates_download", web("/certificates/due.xlsx")),
    ("page: learning record docx", "web:staff_record", web("/staff/{staff_no}/?format=docx")),
    ("page: learning record xlsx", "web:staff_record", web("/staff/{staff_no}/?format=xlsx")),
    ("page: roster changes.xlsx", "web:roster_sync_changes_xlsx", roster_changes),
]

# files without anybody's name (figures, blank templates)
# the annual report holds figures; a blank upload template holds only its sample row
NOT_PERSONAL = {"annual_report", "web:annual_report_download", "web:upload_template"}
# audited, and tested, where the file is not a sheet: the database backup (tests/ops/test_backup_restore.py)
AUDITED_ELSEWHERE = {"backup"}


def _texts(data: bytes) -> str:
    """The text of a CSV, or of every XML part of an XLSX or DOCX."""
    if data[:2] != b"PK":
        return data.decode("utf-8-sig")
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    if "word/document.xml" in names:
        from docx import Document

        document = Document(io.BytesIO(data))
        cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    return "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v is not None)


@pytest.mark.parametrize("make", [case[2] for case in EXPORTS], ids=[case[0] for case in EXPORTS])
def test_each_personal_data_file_writes_one_audit_record(world, make):
    AuditEvent.objects.all().delete()
    data = make(world)
    text = _texts(data)
    # the file does hold people: names with their 工号
    everybody = [*world.district.everybody, *people(2, "B", start=901)]
    assert any(p.staff_no in text and p.name in text for p in everybody)
    events = list(AuditEvent.objects.all())
    assert len(events) == 1, [e.target for e in events]
    assert events[0].action == AuditAction.EXPORT and events[0].rows > 0


def test_the_list_is_complete():
    """Every command with -o and every download URL is either listed above or holds no person."""
    covered = {case[1] for case in EXPORTS} | NOT_PERSONAL | AUDITED_ELSEWHERE
    local = {name for name, app in get_commands().items() if not app.startswith("django")}
    with_output = set()
    for name in local:
        from django.core.management import load_command_class

        command = load_command_class(get_commands()[name], name)
        parser = command.create_parser("manage.py", name)
        if any("-o" in action.option_strings for action in parser._actions):
            with_output.add(name)
    assert {"hours_below", "not_sat", "learning_file", "annual_report"} <= with_output
    assert with_output - covered == set()
    downloads = set()
    for pattern in get_resolver("web.urls").url_patterns:
        route = str(pattern.pattern)
        if any(mark in route for mark in (".xlsx", ".docx", ".csv", "xlsx/", ".<str:fmt>")):
            downloads.add(f"web:{pattern.name}")
    assert {"web:hours_below_download", "web:event_signin_sheet", "web:roster_sync_changes_xlsx"} <= downloads
    assert downloads - covered == set(), downloads - covered
