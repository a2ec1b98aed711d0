"""The permission matrix: every route of the OpenAPI schema × every persona × an object inside
and outside the caller's scope.

``MATRIX`` is data keyed by route. Each entry says how to make the request for the object in
unit A's subtree ("a") and for the one in unit B's subtree ("b"), the status each persona
gets for each, and what to check in a successful answer. A route added to the API without
an entry here fails ``test_every_schema_route_is_in_the_matrix``. The personas include the
staff role (the self scope: the account of A's first person), which gets 403 on every list,
figure and other person, and 404 for another person's record, and the SCIM provisioner, which
gets 403 on every route but signing in and out. An entry may add
``variants``: more requests on the same route (a download format, a sheet upload beside a
JSON list), each run for every persona and both objects too.

Every answer, JSON or file (CSV, XLSX, DOCX), is also checked for leaks: no plain ID number
anywhere, and for a liaison no staff number, name or phone of anyone outside their subtree,
and no name of a unit outside it. The scoped offices (``scoped_legal``, ``scoped_hr``: the
legal-affairs office and HR given unit A, ``set_role ... --unit A``) answer like their role
inside A's subtree and 404 outside it, and leak nothing outside it either; the exams they
write are the ones A owns (``World.owned_exams``: one owned by A, one by B). Downloads of personal data write one audit record each
(with the number of rows); nothing else writes any.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditAction, AuditEvent
from exams.models import Exam
from reminders.digests import period_week
from reminders.models import MessageStatus, ReminderJob, ReminderMessage
from roster.models import RosterSync, Staff, Unit
from roster.sync import roster_sync_create
from sheets.models import ImportKind, ImportRecord
from sheets.services import import_record_create
from tests.api.conftest import (
    EXEMPTION_HEADER,
    PASSWORD,
    RESULT_HEADER,
    ROLES,
    SIGNIN_HEADER,
    Activity,
    District,
    Persona,
    make_persona,
    result_rows,
)
from tests.helpers import Person, csv_bytes, new_id
from training.models import TrainingEvent

pytestmark = pytest.mark.django_db

MASKED_ID = re.compile(r"^\d{6}\*{8}[\dX]{4}$")
PLAIN_ID = re.compile(r"(?<![\d*])\d{17}[\dX](?![\d*])")

Which = str  # "a": the object in unit A's subtree; "b": the one in unit B's subtree

# the offices scoped to unit A's subtree: they see what A's liaison sees
SCOPED_OFFICES = ("scoped_legal", "scoped_hr")
MATRIX_ROLES = (*ROLES, *SCOPED_OFFICES)


def as_seen(role: str) -> str:
    """Whose view of the district a persona has: a scoped office, A's liaison's."""
    return "liaison_a" if role in SCOPED_OFFICES else role


@dataclass
class World:
    personas: dict[str, Persona]
    district: District
    syncs: dict[Which, RosterSync]
    imports: dict[Which, ImportRecord]
    activity: Activity
    # exams carry no unit: "a" and "b" are two exams, every reader sees both
    exams: dict[Which, Exam]
    # events organised by unit A and by unit B
    events: dict[Which, TrainingEvent]
    # reminders sent to unit A's liaison and to unit B's robot; "send now" jobs
    reminders: dict[Which, ReminderMessage] = field(default_factory=dict)
    reminder_jobs: dict[Which, ReminderJob] = field(default_factory=dict)
    # exams owned by unit A and by unit B (created by scoped offices), for no one's heads: the
    # exams a scoped office writes ("a"), and one it may not ("b")
    owned_exams: dict[Which, Exam] = field(default_factory=dict)

    owned_jobs: dict[Which, ReminderJob] = field(default_factory=dict)

    def job_for(self, which: Which, role: str) -> ReminderJob:
        return (self.owned_jobs if role in SCOPED_OFFICES else self.reminder_jobs)[which]

    def exam_for(self, which: Which, role: str) -> Exam:
        """The exam a write route works on: the district's for the offices everywhere, one owned
        by A or B for a scoped office."""
        return (self.owned_exams if role in SCOPED_OFFICES else self.exams)[which]

    def staff_no(self, which: Which) -> str:
        return (self.district.a if which == "a" else self.district.b)[0].staff_no

    def people(self, which: Which) -> list:
        return self.district.a if which == "a" else self.district.b

    def visible_staff(self, role: str) -> set[str]:
        role = as_seen(role)
        if role == "staff":
            return {self.district.a[0].staff_no}
        if role == "liaison_a":
            return self.district.staff_nos("a")
        if role == "liaison_b":
            return self.district.staff_nos("b")
        return self.district.staff_nos("a", "b", "t1")

    def hidden_people(self, role: str) -> list:
        role = as_seen(role)
        if role == "staff":
            return [p for p in self.district.a[1:] + self.district.b + self.district.t1]
        groups = {"liaison_a": ("b", "t1"), "liaison_b": ("a", "t1")}.get(role, ())
        return [p for g in groups for p in getattr(self.district, g)]

    def visible_units(self, role: str) -> set[str]:
        return {"liaison_a": {"A"}, "liaison_b": {"B"}, "staff": {"A"}}.get(as_seen(role),
                                                                           {"D", "A", "B", "T", "T1", "E", "S1"})

    def hidden_unit_names(self, role: str) -> set[str]:
        visible = self.visible_units(role)
        return set(Unit.objects.exclude(code__in=visible).values_list("name", flat=True))


Request = Callable[[APIClient, World, Which, str], Any]
Check = Callable[[Any, World, Which, str], None]


@dataclass(frozen=True)
class Variant:
    """Another request on the same route. ``ok``: its success status, where it differs from
    the route's (a sheet upload answers 201 where a JSON list answers 200)."""

    name: str
    request: Request
    check: Check | None = None
    ok: int | None = None
    # the rows its file holds, as its audit record must count them (default: the data rows of
    # the active sheet of a CSV or XLSX)
    rows: Callable[[Any], int] | None = None
    # a correction (see Route.corrects)
    corrects: bool = False


@dataclass(frozen=True)
class Route:
    request: Request
    # persona -> status, or (status for "a", status for "b")
    expect: dict[str, int | tuple[int, int]]
    check: Check | None = None
    notes: str = ""
    extra: dict = field(default_factory=dict)
    variants: tuple[Variant, ...] = ()
    # its file downloads carry personal data: each writes an audit record with its rows
    audited: bool = False
    # the rows the default request's file holds (see Variant.rows)
    rows: Callable[[Any], int] | None = None
    # a correction: each successful request writes one audit record of its own ("correction")
    corrects: bool = False

    def all_variants(self) -> tuple[Variant, ...]:
        return (Variant("default", self.request, self.check, rows=self.rows), *self.variants)


def scoped(ok: int, *, viewer: int, liaisons: bool = True) -> dict[str, int | tuple[int, int]]:
    """The usual pattern: hr and legal_office everywhere; each liaison only their own subtree;
    the scoped offices (the given ``hr``/``legal_office`` answer) only inside A's subtree."""
    return {
        "hr": ok,
        "legal_office": ok,
        "liaison_a": (ok, 404) if liaisons else 403,
        "liaison_b": (404, ok) if liaisons else 403,
        "viewer": viewer,
        "staff": 403,
        "anonymous": 401,
        "scoped_legal": (ok, 404),
        "scoped_hr": (ok, 404),
    }


def hr_only(ok: int | tuple[int, int], *, scoped_hr: int | tuple[int, int] | None = None) -> dict[str, int | tuple[int, int]]:
    """hr's alone; its scoped office inside A's subtree (``scoped_hr``: where that differs)."""
    return {"hr": ok, "legal_office": 403, "liaison_a": 403, "liaison_b": 403, "viewer": 403, "staff": 403,
            "anonymous": 401, "scoped_legal": 403, "scoped_hr": (ok, 404) if scoped_hr is None else scoped_hr}


def legal_only(ok: int | tuple[int, int], *,
               scoped_legal: int | tuple[int, int] | None = None) -> dict[str, int | tuple[int, int]]:
    """The legal-affairs office's alone; its scoped office on what A's subtree owns."""
    return {"hr": 403, "legal_office": ok, "liaison_a": 403, "liaison_b": 403, "viewer": 403, "staff": 403,
            "anonymous": 401, "scoped_hr": 403,
            "scoped_legal": (ok, 404) if scoped_legal is None else scoped_legal}


def unscoped(ok: int, *, hr: int = 403, viewer: int | None = None) -> dict[str, int | tuple[int, int]]:
    """Records without a unit (exams, reports): every reader gets both objects."""
    return {"hr": hr, "legal_office": ok, "liaison_a": ok, "liaison_b": ok, "viewer": ok if viewer is None else viewer,
            "staff": 403, "anonymous": 401, "scoped_legal": ok, "scoped_hr": hr}


# --- checks on successful answers -------------------------------------------------------


def check_staff_item(item: dict, world: World, role: str) -> None:
    assert item["staff_no"] in world.visible_staff(role)
    assert MASKED_ID.match(item["id_number"]), item["id_number"]
    stored = Staff.objects.get(staff_no=item["staff_no"])
    # every phone this persona can see lies in their subtree: shown in full
    assert item["phone"] == stored.phone
    assert item["unit"] == stored.unit.code and item["unit_name"] == stored.unit.name


def check_staff_list(response, world: World, which: Which, role: str) -> None:
    results = response.json()["results"]
    assert results, "the list should not be empty"
    wanted = world.district.staff_nos(which)
    assert {r["staff_no"] for r in results} == wanted
    for item in results:
        check_staff_item(item, world, role)


def check_staff_detail(response, world: World, which: Which, role: str) -> None:
    check_staff_item(response.json(), world, role)


def check_staff_created(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert MASKED_ID.match(body["id_number"])
    assert Staff.objects.get(staff_no=body["staff_no"]).unit.code == which.upper()


def check_units_list(response, world: World, which: Which, role: str) -> None:
    codes = {u["code"] for u in response.json()["results"]}
    allowed = {"liaison_a": {"A"}, "liaison_b": {"B"}}.get(as_seen(role), {"D", "A", "B", "T", "T1", "E", "S1"})
    assert codes and codes <= allowed


def check_token(response, world: World, which: Which, role: str) -> None:
    assert response.json()["token"] == world.personas[role].token


def check_token_revoked(response, world: World, which: Which, role: str) -> None:
    assert not Token.objects.filter(key=world.personas[role].token).exists()
    assert Token.objects.exclude(user=world.personas[role].user).count() >= 1


def check_sync(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert set(body["progress"]) == {"done", "total"}
    assert {"created", "updated", "unchanged", "deactivated", "reactivated", "rejected"} <= set(body["counts"])


def check_sync_accepted(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert RosterSync.objects.filter(pk=body["id"]).exists()
    assert response["Location"].endswith(f"/api/v1/roster/syncs/{body['id']}/")


def check_undo_accepted(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    undo = RosterSync.objects.get(pk=body["id"])
    assert (body["kind"], body["undoes"], body["dry_run"]) == ("undo", undo.undoes_id, True)
    assert response["Location"].endswith(f"/api/v1/roster/syncs/{body['id']}/")


def check_import(response, world: World, which: Which, role: str) -> None:
    assert response.json()["id"] == world.imports[which].pk


def check_void_preview(response, world: World, which: Which, role: str) -> None:
    assert response.json() == {"import_id": world.imports[which].pk, "dry_run": True,
                               "removed": {"attempts": 0, "exemptions": 0, "attendances": 0}, "kept": 0}
    assert ImportRecord.objects.get(pk=world.imports[which].pk).voided_at is None


def check_exam(response, world: World, which: Which, role: str) -> None:
    assert response.json()["id"] == world.exams[which].pk


def check_exams_list(response, world: World, which: Which, role: str) -> None:
    # the district's exams for every reader; an exam owned by A or B for those who work there
    owned = {"liaison_a": "a", "liaison_b": "b"}.get(as_seen(role))
    wanted = [*world.exams.values(), *([world.owned_exams[owned]] if owned else world.owned_exams.values())]
    assert {e["id"] for e in response.json()["results"]} == {e.pk for e in wanted}


def check_exam_created(response, world: World, which: Which, role: str) -> None:
    exam = Exam.objects.get(pk=response.json()["id"])
    # a scoped office's exam is A's: its audience is A's people only
    audience = Staff.objects.filter(unit__code="A") if role in SCOPED_OFFICES else Staff.objects.all()
    assert exam.candidates.count() == audience.count() and (exam.owner.code if exam.owner else None) == (
        "A" if role in SCOPED_OFFICES else None)


def check_stats(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert body["unit"] == which.upper()
    assert body["candidates"] == len(world.people(which)) and body["sat"] == 1 + (which == "a")


def check_not_sat(response, world: World, which: Which, role: str) -> None:
    results = response.json()["results"]
    stored = {p.staff_no: p for p in world.people(which)}
    assert results and {r["unit_code"] for r in results} == {which.upper()}
    for item in results:
        assert item["staff_no"] in stored and item["staff_no"] in world.visible_staff(role)
        assert item["phone"] == stored[item["staff_no"]].phone  # in their subtree: in full


def _download_rows(response) -> list[list[str]]:
    if response["Content-Type"].startswith("text/csv"):
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.content)).active
    return [[str(c.value or "") for c in row] for row in sheet.iter_rows()]


def check_not_sat_download(response, world: World, which: Which, role: str) -> None:
    table = _download_rows(response)
    assert table[0] in (["staff_no", "name", "unit_code", "unit_name", "position", "phone"],
                        ["工号", "姓名", "单位代码", "单位名称", "职务", "手机号"])
    stored = {p.staff_no: p for p in world.people(which)}
    assert table[1:] and {row[0] for row in table[1:]} <= set(stored)
    assert all(row[5] == stored[row[0]].phone for row in table[1:])


def check_import_created(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert ImportRecord.objects.get(pk=body["id"]).started_by == world.personas[role].user
    assert response["Location"].endswith(f"/api/v1/imports/{body['id']}/")


def check_events(response, world: World, which: Which, role: str) -> None:
    ids = {e["id"] for e in response.json()["results"]}
    assert ids == {world.events[which].pk}


def check_event_created(response, world: World, which: Which, role: str) -> None:
    assert TrainingEvent.objects.get(pk=response.json()["id"]).organiser.code == which.upper()


def check_attendance(response, world: World, which: Which, role: str) -> None:
    results = response.json()["results"]
    assert results and {r["unit"] for r in results} <= world.visible_units(role)
    assert {r["staff_no"] for r in results} <= world.visible_staff(role)


def check_attendance_recorded(response, world: World, which: Which, role: str) -> None:
    assert response.json()["event_id"] == world.events[which].pk


def check_participation(response, world: World, which: Which, role: str) -> None:
    codes = {r["unit_code"] for r in response.json()["results"]}
    assert codes == {which.upper()}


def check_reminders(response, world: World, which: Which, role: str) -> None:
    results = response.json()["results"]
    assert [r["id"] for r in results] == [world.reminders[which].pk]
    item = results[0]
    assert item["unit"] == which.upper() and item["exam"] == world.activity.exam.pk
    assert item["recipient"] == world.reminders[which].recipient_masked
    assert item["status"] == "sent" and item["not_sat"] == 3


def check_remind_accepted(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    job = ReminderJob.objects.get(pk=body["id"])
    exam = world.owned_exams["a"] if role in SCOPED_OFFICES else world.activity.exam
    assert job.exam_id == exam.pk and job.dry_run == (which == "a")
    assert job.started_by == world.personas[role].user and set(body["progress"]) == {"done", "total"}
    assert response["Location"].endswith(f"/api/v1/reminders/jobs/{job.pk}/")


def check_reminder_job(response, world: World, which: Which, role: str) -> None:
    assert response.json()["id"] == world.job_for(which, role).pk


def check_report(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert body["year"] == world.activity.year - (which == "b")
    if as_seen(role).startswith("liaison"):
        assert body["unit"]["code"] == as_seen(role)[-1].upper()
    else:
        assert "unit" not in body


def check_report_file(response, world: World, which: Which, role: str) -> None:
    assert response.content[:2] == b"PK"


def check_record(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert body["staff_no"] == world.staff_no(which) and body["staff_no"] in world.visible_staff(role)
    assert set(body) == {"staff_no", "name", "unit_code", "unit_name", "is_active", "years"}
    year = body["years"][0]
    assert year["year"] == world.activity.year
    # A's 0001 sat (80) and attended A's lecture (2 h); B's 0101 sat (90) and attended both (5 h)
    assert year["hours"] == (2 if which == "a" else 5)
    assert [(e["status"], e["best_score"]) for e in year["exams"]] == [("passed", 80 if which == "a" else 90)]


def check_my_record(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert body["staff_no"] == world.district.a[0].staff_no
    # every year (a candidate of last year's exam too), newest first; or the year asked for
    year = world.activity.year
    assert [y["year"] for y in body["years"]] == ([year, year - 1] if which == "a" else [year])


def _workbook(response):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(response.content))


def _docx(response):
    from docx import Document

    return Document(io.BytesIO(response.content))


def record_file_rows(response) -> int:
    """A record's rows as its file shows them: one a year, one an attendance, one an exam."""
    if response["Content-Type"] == DOCX:
        document = _docx(response)
        years = sum(1 for p in document.paragraphs if re.fullmatch(r"\d{4}年度", p.text))
        return years + sum(len(t.rows) - 1 for t in document.tables)
    return sum(sheet.max_row - 1 for sheet in _workbook(response))


def check_record_file(response, world: World, which: Which, role: str) -> None:
    assert response.content[:2] == b"PK"
    staff_no = world.staff_no(which) if role != "staff" or which == "a" else world.district.a[0].staff_no
    if response["Content-Type"] == DOCX:
        assert staff_no in [run.text for p in _docx(response).paragraphs for run in p.runs]
    else:
        assert _workbook(response)["年度汇总"]["A2"].value == staff_no


def learning_file_rows(response) -> int:
    """The people a learning file lists: rows of 汇总, or pages of the docx."""
    if response["Content-Type"] == DOCX:
        return sum(1 for p in _docx(response).paragraphs if p.text.startswith("姓名："))
    return _workbook(response)["汇总"].max_row - 1


def check_learning_file(response, world: World, which: Which, role: str) -> None:
    wanted = world.district.staff_nos(which)
    if response["Content-Type"] == DOCX:
        listed = {p.runs[3].text for p in _docx(response).paragraphs if p.text.startswith("姓名：")}
    else:
        listed = {row[0] for row in _workbook(response)["汇总"].iter_rows(min_row=2, values_only=True)}
    assert listed == wanted


def check_certificates(response, world: World, which: Which, role: str) -> None:
    results = response.json()["results"]
    assert [r["number"] for r in results] == [f"证{world.staff_no(which)}"]
    assert results[0]["unit_code"] == which.upper() and results[0]["state"] == "valid"


def check_certificate_stats(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert body["holders"] == 1 and body["valid"] == 1
    assert [r["unit_code"] for r in body["by_unit"]] == [which.upper()]


def check_renewal(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert body["dry_run"] == (which == "a") and body["renewed"] + body["already_renewed"] + body["not_due"] == 0


# --- requests ---------------------------------------------------------------------------

_numbers = itertools.count(5000)


def check_template(response, world: World, which: Which, role: str) -> None:
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = _workbook(response).active
    headings = [cell.value for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert ("身份证号（必填）" if which == "a" else "出勤情况") in headings


def post_staff(client: APIClient, world: World, which: Which, role: str):
    body = {"staff_no": f"N{next(_numbers)}", "name": "新同事", "id_number": new_id(), "unit": which.upper(),
            "phone": "13912345678"}
    return client.post("/api/v1/staff/", body, format="json")


def post_certificates(client: APIClient, world: World, which: Which, role: str):
    person = world.people(which)[1]
    rows = [[person.name, "", person.staff_no, f"新证{person.staff_no}", "执法证", "2024-01-01", "2030-01-01"]]
    data = csv_bytes(rows, header=["姓名", "身份证号", "工号", "证件号", "证件类型", "发证日期", "有效期至"])
    upload = SimpleUploadedFile("certs.csv", data, content_type="text/csv")
    return client.post("/api/v1/certificates/imports/", {"file": upload, "dry_run": "true"}, format="multipart")


def post_renew(client: APIClient, world: World, which: Which, role: str):
    from exams.creation import exam_create

    owner = Unit.objects.get(code=which.upper()) if role in SCOPED_OFFICES else None
    exam = Exam.objects.filter(kind="enforcement_renewal", owner=owner).first() or exam_create(
        name=f"执法续职考试{owner.code if owner else ''}", year=world.activity.year, kind="enforcement_renewal",
        owner=owner)
    return client.post(f"/api/v1/exams/{exam.pk}/renew-certificates/", {"dry_run": which == "a"}, format="json")


def post_sync(client: APIClient, world: World, which: Which, role: str):
    people = world.district.a if which == "a" else world.district.b
    upload = SimpleUploadedFile("roster.csv", csv_bytes(people), content_type="text/csv")
    return client.post("/api/v1/roster/syncs/", {"file": upload, "mode": "partial", "dry_run": "true"},
                       format="multipart")


def post_undo(client: APIClient, world: World, which: Which, role: str):
    # the district's own sync, applied; a dry run of its undo may be asked for again and again.
    # A scoped office undoes a sync of its subtree: one of A's ("a"), one of B's ("b")
    if role in SCOPED_OFFICES:
        root = Unit.objects.get(code=which.upper())
        applied = RosterSync.objects.filter(applied=True, root=root).first()
        if applied is None:
            from roster.sync import roster_sync

            changed = [Person(p.staff_no, p.name, p.id_number, p.unit, position="副科长", phone=p.phone)
                       for p in world.people(which)]
            result = roster_sync(sync=roster_sync_create(file=csv_bytes(changed), file_name=f"{which}.csv",
                                                         mode="partial", root=root))
            assert result.applied, result.errors
            applied = RosterSync.objects.get(pk=result.sync_id)
    else:
        applied = RosterSync.objects.filter(applied=True, root=None).order_by("pk").first()
    return client.post(f"/api/v1/roster/syncs/{applied.pk}/undo/", {"dry_run": True}, format="json")


def post_token(client: APIClient, world: World, which: Which, role: str):
    persona = world.personas[role]
    username = persona.user.username if persona.user else "nobody"
    password = PASSWORD if which == "a" and persona.user else "wrong-password"
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def post_exam(client: APIClient, world: World, which: Which, role: str):
    return client.post("/api/v1/exams/", {"name": f"考试{next(_numbers)}", "year": 2026, "kind": "annual_law"},
                       format="json")


def post_exemptions(client: APIClient, world: World, which: Which, role: str):
    person = world.people(which)[-1]
    data = csv_bytes([[person.staff_no, "", person.name, "病假"]], header=EXEMPTION_HEADER)
    return client.post(f"/api/v1/exams/{world.exam_for(which, role).pk}/exemptions/", {"file": upload("exempt.csv", data)},
                       format="multipart")


def post_results(client: APIClient, world: World, which: Which, role: str):
    data = csv_bytes(result_rows([(world.people(which)[-1], 66)]), header=RESULT_HEADER)
    return client.post(f"/api/v1/exams/{world.exam_for(which, role).pk}/results/", {"file": upload("results.csv", data)},
                       format="multipart")


def post_event(client: APIClient, world: World, which: Which, role: str):
    body = {"title": f"讲座{next(_numbers)}", "kind": "lecture", "date": "2026-05-20", "hours": "2",
            "organiser": which.upper()}
    return client.post("/api/v1/events/", body, format="json")


def post_attendance_list(client: APIClient, world: World, which: Which, role: str):
    staff_nos = [p.staff_no for p in world.people(which)[-2:]]
    return client.post(f"/api/v1/events/{world.events[which].pk}/attendance/", {"staff_nos": staff_nos},
                       format="json")


def post_attendance_sheet(client: APIClient, world: World, which: Which, role: str):
    rows = [[p.name, "", p.staff_no] for p in world.people(which)[-2:]]
    return client.post(f"/api/v1/events/{world.events[which].pk}/attendance/",
                       {"file": upload("签到表.csv", csv_bytes(rows, header=SIGNIN_HEADER))}, format="multipart")


def post_exemption_json(client: APIClient, world: World, which: Which, role: str):
    person = world.people(which)[-1]
    return client.post(f"/api/v1/exams/{world.exam_for(which, role).pk}/exemptions/",
                       {"staff_no": person.staff_no, "reason": "借调"}, format="json")


def patch_exam(client: APIClient, world: World, which: Which, role: str):
    return client.patch(f"/api/v1/exams/{world.exam_for(which, role).pk}/", {"pass_mark": "55", "reason": "按通知调整"},
                        format="json")


def delete_exam(client: APIClient, world: World, which: Which, role: str):
    # "a": the open exam, which people have sat (409 for the office); "b": last year's, unsat
    return client.delete(f"/api/v1/exams/{world.exam_for(which, role).pk}/", {"reason": "重复创建"}, format="json")


def delete_exemption(client: APIClient, world: World, which: Which, role: str):
    # A's 0003 is exempt from the exam (the activity); B's last person is made exempt here
    from exams.exemptions import candidates_exempt
    from exams.models import Candidate

    person = world.people(which)[2] if which == "a" else world.people(which)[-1]
    exam = world.owned_exams[which] if role in SCOPED_OFFICES else world.activity.exam
    if which == "b" or role in SCOPED_OFFICES:
        if role in SCOPED_OFFICES:
            from exams.enrolment import enrol_staff

            staff = Staff.objects.get(staff_no=person.staff_no)
            enrol_staff(exam=exam, staff_sql="%s", staff_params=[staff.pk], via="exemption",
                        today=exam.opens_on)
        candidates_exempt(candidates=Candidate.objects.filter(exam=exam, staff__staff_no=person.staff_no),
                          reason="借调")
    return client.delete(f"/api/v1/exams/{exam.pk}/exemptions/{person.staff_no}/",
                         {"reason": "已返岗"}, format="json")


def patch_event(client: APIClient, world: World, which: Which, role: str):
    return client.patch(f"/api/v1/events/{world.events[which].pk}/", {"hours": "1.5", "location": "三楼会议室"},
                        format="json")


def delete_event(client: APIClient, world: World, which: Which, role: str):
    # "a": A's event, attended by one of B's people too: without a reason (409 for whoever runs
    # it); "b": B's event, with one
    body = {} if which == "a" else {"reason": "重复录入"}
    return client.delete(f"/api/v1/events/{world.events[which].pk}/", body, format="json")


def patch_attendance(client: APIClient, world: World, which: Which, role: str):
    person = world.people(which)[0]
    return client.patch(f"/api/v1/events/{world.events[which].pk}/attendance/{person.staff_no}/",
                        {"status": "late", "reason": "签到晚"}, format="json")


def check_exam_updated(response, world: World, which: Which, role: str) -> None:
    exam = world.exam_for(which, role)
    assert response.json()["pass_mark"] == "55.00" and Exam.objects.get(pk=exam.pk).pass_mark == 55


def check_exam_deleted(response, world: World, which: Which, role: str) -> None:
    assert not Exam.objects.filter(pk=world.exam_for(which, role).pk).exists()


def check_exemption_added(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert body["staff_no"] == world.people(which)[-1].staff_no and body["exempt"] and body["exempt_reason"] == "借调"


def check_exemption_lifted(response, world: World, which: Which, role: str) -> None:
    from exams.models import Candidate

    person = world.people(which)[2] if which == "a" else world.people(which)[-1]
    exam = world.owned_exams[which] if role in SCOPED_OFFICES else world.activity.exam
    assert not Candidate.objects.get(exam=exam, staff__staff_no=person.staff_no).exempt


def check_event_updated(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert body["id"] == world.events[which].pk and body["hours"] == "1.50" and body["location"] == "三楼会议室"


def check_event_deleted(response, world: World, which: Which, role: str) -> None:
    assert not TrainingEvent.objects.filter(pk=world.events[which].pk).exists()


def check_attendance_updated(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert body["staff_no"] == world.people(which)[0].staff_no and body["status"] == "late"


def get_with(path: Callable[[World, Which], str], query: str = "") -> Request:
    def request(client: APIClient, world: World, which: Which, role: str):
        base = path(world, which)
        return client.get(base + (("&" if "?" in base else "?") + query if query else ""))

    return request


def not_sat_path(world: World, which: Which) -> str:
    return f"/api/v1/exams/{world.activity.exam.pk}/not-sat/?unit={which.upper()}"


def report_path(world: World, which: Which) -> str:
    return f"/api/v1/reports/annual/{world.activity.year - (which == 'b')}/"


def record_path(world: World, which: Which) -> str:
    return f"/api/v1/staff/{world.staff_no(which)}/record/"


def my_record_path(world: World, which: Which) -> str:
    return "/api/v1/me/record/" + ("" if which == "a" else f"?year={world.activity.year}")


def learning_file_path(world: World, which: Which) -> str:
    return f"/api/v1/units/{which.upper()}/learning-file/{world.activity.year}/"



def hours_below_path(world: World, which: Which) -> str:
    return f"/api/v1/training/hours-below/?year={world.activity.year}&unit={which.upper()}"


def check_hours_below(response, world: World, which: Which, role: str) -> None:
    results = response.json()["results"]
    # nobody has 40 hours: everyone of the unit's subtree is listed, with their own target
    assert {r["staff_no"] for r in results} == world.district.staff_nos(which)
    assert {r["unit_code"] for r in results} == {which.upper()}
    assert all(r["required_hours"] == 40 and r["missing_hours"] == 40 - r["hours"] for r in results)


def _hours_table(response) -> list[list[str]]:
    table = _download_rows(response)
    start = next(i for i, row in enumerate(table) if row and row[0] == "工号")
    return table[start + 1:]


def check_hours_below_download(response, world: World, which: Which, role: str) -> None:
    assert {row[0] for row in _hours_table(response)} == world.district.staff_nos(which)


def signin_sheet_path(world: World, which: Which) -> str:
    return f"/api/v1/events/{world.events[which].pk}/signin-sheet.docx?unit={which.upper()}"


def _sheet_staff_nos(response) -> list[str]:
    table = _docx(response).tables[0]
    return [row.cells[1].text for row in table.rows[1:]]


def check_signin_sheet(response, world: World, which: Which, role: str) -> None:
    assert response["Content-Type"] == DOCX and response.content[:2] == b"PK"
    assert set(_sheet_staff_nos(response)) == world.district.staff_nos(which)


def record_variants(path: Callable[[World, Which], str]) -> tuple[Variant, ...]:
    return tuple(Variant(fmt, get_with(path, f"format={fmt}"), check_record_file, rows=record_file_rows)
                 for fmt in ("xlsx", "docx"))


MATRIX: dict[tuple[str, str], Route] = {
    ("POST", "/api/v1/auth/token/"): Route(
        request=post_token,
        # "a": the persona's own password; "b": a wrong one
        expect={**{r: (200, 400) for r in MATRIX_ROLES}, "anonymous": 400},
        check=check_token,
    ),
    ("DELETE", "/api/v1/auth/token/"): Route(
        # "a": revokes the persona's own token; "b": the same token, now revoked
        request=lambda c, w, which, r: c.delete("/api/v1/auth/token/"),
        expect={**{r: (204, 401) for r in MATRIX_ROLES}, "anonymous": 401},
        check=check_token_revoked,
    ),
    ("GET", "/api/v1/units/"): Route(
        request=lambda c, w, which, r: c.get("/api/v1/units/" if which == "a" else "/api/v1/units/?parent=D"),
        expect={"hr": 200, "legal_office": 200, "liaison_a": 200, "liaison_b": 200, "viewer": 200, "staff": 403,
                "anonymous": 401, "scoped_legal": 200, "scoped_hr": 200},
        check=check_units_list,
    ),
    ("GET", "/api/v1/units/{code}/"): Route(
        request=lambda c, w, which, r: c.get(f"/api/v1/units/{which.upper()}/"),
        expect=scoped(200, viewer=200),
        check=lambda resp, w, which, r: resp.json()["code"] == which.upper() or pytest.fail("wrong unit"),
    ),
    ("GET", "/api/v1/staff/"): Route(
        request=lambda c, w, which, r: c.get(f"/api/v1/staff/?unit={which.upper()}"),
        expect=scoped(200, viewer=403),
        check=check_staff_list,
    ),
    ("POST", "/api/v1/staff/"): Route(
        # a scoped hr office: a unit outside its subtree is a field error, like one that does not exist
        request=post_staff, expect=hr_only(201, scoped_hr=(201, 400)), check=check_staff_created),
    ("GET", "/api/v1/staff/{staff_no}/"): Route(
        request=lambda c, w, which, r: c.get(f"/api/v1/staff/{w.staff_no(which)}/"),
        expect=scoped(200, viewer=403),
        check=check_staff_detail,
    ),
    ("PATCH", "/api/v1/staff/{staff_no}/"): Route(
        request=lambda c, w, which, r: c.patch(f"/api/v1/staff/{w.staff_no(which)}/", {"position": "科长"}, format="json"),
        expect=hr_only(200),
        check=check_staff_detail,
    ),
    ("POST", "/api/v1/roster/syncs/"): Route(
        # a scoped hr office's file of B's people is accepted: its rows are refused when it runs
        request=post_sync, expect=hr_only(202, scoped_hr=202), check=check_sync_accepted),
    ("POST", "/api/v1/roster/syncs/{id}/undo/"): Route(request=post_undo, expect=hr_only(202),
                                                      check=check_undo_accepted),
    ("GET", "/api/v1/roster/syncs/{id}/"): Route(
        request=lambda c, w, which, r: c.get(f"/api/v1/roster/syncs/{w.syncs[which].pk}/"),
        # syncs concern the whole roster: no liaison reads them
        expect=scoped(200, viewer=403, liaisons=False),
        check=check_sync,
    ),
    ("GET", "/api/v1/imports/{id}/"): Route(
        request=lambda c, w, which, r: c.get(f"/api/v1/imports/{w.imports[which].pk}/"),
        # "a" was started by liaison_a, "b" by liaison_b
        expect=scoped(200, viewer=403),
        check=check_import,
    ),
    ("POST", "/api/v1/imports/{id}/void/"): Route(
        # a dry run (a real void writes an audit record): only the legal-affairs office voids
        request=lambda c, w, which, r: c.post(f"/api/v1/imports/{w.imports[which].pk}/void/", {"dry_run": True},
                                              format="json"),
        expect=legal_only(200),
        check=check_void_preview,
    ),
    # --- exams: records without a unit; hr keeps its roster rights only
    ("GET", "/api/v1/exams/"): Route(
        request=lambda c, w, which, r: c.get("/api/v1/exams/" if which == "a" else "/api/v1/exams/?kind=annual_law"),
        expect=unscoped(200),
        check=check_exams_list,
    ),
    ("POST", "/api/v1/exams/"): Route(
        # a scoped office's exam is owned by A: its audience is A's people
        request=post_exam, expect=legal_only(201, scoped_legal=201), check=check_exam_created),
    ("GET", "/api/v1/exams/{id}/"): Route(
        request=lambda c, w, which, r: c.get(f"/api/v1/exams/{w.exams[which].pk}/"),
        expect=unscoped(200),
        check=check_exam,
    ),
    ("GET", "/api/v1/exams/{id}/stats/"): Route(
        # the figures of unit A's subtree, and of B's
        request=lambda c, w, which, r: c.get(f"/api/v1/exams/{w.activity.exam.pk}/stats/?unit={which.upper()}"),
        expect={**scoped(200, viewer=200), "hr": 403, "scoped_hr": 403},
        check=check_stats,
    ),
    ("GET", "/api/v1/exams/{id}/not-sat/"): Route(
        request=get_with(not_sat_path),
        expect={**scoped(200, viewer=403), "hr": 403, "scoped_hr": 403},
        check=check_not_sat,
        variants=(
            Variant("csv", get_with(not_sat_path, "format=csv"), check_not_sat_download),
            Variant("xlsx", get_with(not_sat_path, "format=xlsx"), check_not_sat_download),
        ),
        audited=True,
    ),
    ("POST", "/api/v1/exams/{id}/exemptions/"): Route(
        request=post_exemptions, expect=legal_only(201), check=check_import_created,
        # JSON: one person exempted by hand (a correction, audited)
        variants=(Variant("json", post_exemption_json, check_exemption_added, corrects=True),),
    ),
    # --- corrections, each audited: the office everywhere; a liaison the events their subtree
    # runs and their own people's attendance (another subtree's: 404); exams stay the office's
    ("PATCH", "/api/v1/exams/{id}/"): Route(
        request=patch_exam, expect=legal_only(200), check=check_exam_updated, corrects=True,
    ),
    ("DELETE", "/api/v1/exams/{id}/"): Route(
        request=delete_exam, expect={**legal_only(204), "legal_office": (409, 204)}, check=check_exam_deleted,
        corrects=True,
    ),
    ("DELETE", "/api/v1/exams/{id}/exemptions/{staff_no}/"): Route(
        request=delete_exemption, expect=legal_only(204), check=check_exemption_lifted, corrects=True,
    ),
    ("PATCH", "/api/v1/events/{id}/"): Route(
        request=patch_event, expect={**scoped(200, viewer=403), "hr": 403, "scoped_hr": 403}, check=check_event_updated, corrects=True,
    ),
    ("DELETE", "/api/v1/events/{id}/"): Route(
        request=delete_event,
        expect={**scoped(204, viewer=403), "hr": 403, "legal_office": (409, 204), "liaison_a": (409, 404),
                "scoped_legal": (409, 404), "scoped_hr": 403},
        check=check_event_deleted, corrects=True,
    ),
    ("PATCH", "/api/v1/events/{id}/attendance/{staff_no}/"): Route(
        request=patch_attendance, expect={**scoped(200, viewer=403), "hr": 403, "scoped_hr": 403}, check=check_attendance_updated,
        corrects=True,
    ),
    ("POST", "/api/v1/exams/{id}/results/"): Route(
        request=post_results, expect=legal_only(202), check=check_import_created,
    ),
    # --- training: a liaison reads the events that concern their subtree, and runs those it organises
    ("GET", "/api/v1/events/"): Route(
        request=lambda c, w, which, r: c.get(f"/api/v1/events/?organiser={which.upper()}"),
        expect={**scoped(200, viewer=403), "hr": 403, "scoped_hr": 403},
        check=check_events,
    ),
    ("POST", "/api/v1/events/"): Route(
        request=post_event,
        # an organiser outside the liaison's subtree is a field error, like a code that does not exist
        expect={**scoped(201, viewer=403), "liaison_a": (201, 400), "liaison_b": (400, 201), "hr": 403,
                "scoped_legal": (201, 400), "scoped_hr": 403},
        check=check_event_created,
    ),
    ("GET", "/api/v1/events/{id}/attendance/"): Route(
        request=lambda c, w, which, r: c.get(f"/api/v1/events/{w.events[which].pk}/attendance/"),
        # one of B's people attended A's district-wide lecture: B's liaison reads that one row
        expect={**scoped(200, viewer=403), "liaison_b": (200, 200), "hr": 403, "scoped_hr": 403},
        check=check_attendance,
    ),
    ("POST", "/api/v1/events/{id}/attendance/"): Route(
        request=post_attendance_list,
        expect={**scoped(200, viewer=403), "hr": 403, "scoped_hr": 403},
        check=check_attendance_recorded,
        variants=(Variant("sheet", post_attendance_sheet, check_import_created, ok=201),),
    ),
    # --- reminders: a liaison reads those of their subtree; only the legal-affairs office sends
    ("GET", "/api/v1/reminders/"): Route(
        request=lambda c, w, which, r: c.get(f"/api/v1/reminders/?unit={which.upper()}"),
        expect={**scoped(200, viewer=403), "hr": 403, "scoped_hr": 403},
        check=check_reminders,
        variants=(Variant("filters", lambda c, w, which, r: c.get(
            f"/api/v1/reminders/?unit={which.upper()}&exam={w.activity.exam.pk}&status=sent"
            f"&channel={'email' if which == 'a' else 'dingtalk'}"), check_reminders),),
    ),
    ("POST", "/api/v1/exams/{id}/remind/"): Route(
        # "a": a dry run, "b": a real one
        request=lambda c, w, which, r: c.post(
            f"/api/v1/exams/{(w.owned_exams[which] if r in SCOPED_OFFICES else w.activity.exam).pk}/remind/",
            {"dry_run": which == "a"}, format="json"),
        expect=legal_only(202),
        check=check_remind_accepted,
    ),
    ("GET", "/api/v1/reminders/jobs/{id}/"): Route(
        # a scoped office reads the jobs of the exams it owns: A's ("a"), not B's ("b")
        request=lambda c, w, which, r: c.get(f"/api/v1/reminders/jobs/{w.job_for(which, r).pk}/"),
        expect=legal_only(200),
        check=check_reminder_job,
    ),
    # --- statistics and reports
    ("GET", "/api/v1/stats/participation/"): Route(
        request=lambda c, w, which, r: c.get(f"/api/v1/stats/participation/?unit={which.upper()}"),
        expect={**scoped(200, viewer=200), "hr": 403, "scoped_hr": 403},
        check=check_participation,
        variants=(Variant("exam", lambda c, w, which, r: c.get(
            f"/api/v1/stats/participation/?exam={w.activity.exam.pk}&unit={which.upper()}&rollup=false"),
            check_participation),),
    ),
    ("GET", "/api/v1/reports/annual/{year}/"): Route(
        # "a": this year's report, "b": last year's; a liaison gets their subtree's
        request=get_with(report_path),
        expect=unscoped(200),
        check=check_report,
        variants=(
            Variant("xlsx", get_with(report_path, "format=xlsx"), check_report_file),
            Variant("docx", get_with(report_path, "format=docx"), check_report_file),
        ),
    ),
    # --- learning records: legal_office everywhere, a liaison their subtree, the staff role itself
    ("GET", "/api/v1/staff/{staff_no}/record/"): Route(
        request=get_with(record_path),
        # hr and viewers keep no training data; the staff role reads its own (A's 0001), 404 for anyone else
        expect={**scoped(200, viewer=403), "hr": 403, "scoped_hr": 403, "staff": (200, 404)},
        check=check_record,
        variants=record_variants(record_path),
        audited=True,
    ),
    ("GET", "/api/v1/me/record/"): Route(
        request=get_with(my_record_path),
        expect={**{r: 403 for r in MATRIX_ROLES}, "staff": 200, "anonymous": 401},
        check=check_my_record,
        variants=record_variants(my_record_path),
        audited=True,
    ),
    # --- certificates: legal_office everywhere, a liaison reads their subtree; the others 403
    ("GET", "/api/v1/certificates/"): Route(
        request=lambda c, w, which, r: c.get(f"/api/v1/certificates/?unit={which.upper()}"),
        expect={**scoped(200, viewer=403), "hr": 403, "scoped_hr": 403},
        check=check_certificates,
        variants=(Variant("filters", lambda c, w, which, r: c.get(
            f"/api/v1/certificates/?unit={which.upper()}&state=valid&kind=enforcement&on=2026-06-01"),
            check_certificates),),
    ),
    ("GET", "/api/v1/certificates/stats/"): Route(
        request=lambda c, w, which, r: c.get(f"/api/v1/certificates/stats/?unit={which.upper()}&on=2026-06-01"),
        expect={**scoped(200, viewer=403), "hr": 403, "scoped_hr": 403},
        check=check_certificate_stats,
    ),
    ("POST", "/api/v1/certificates/imports/"): Route(
        request=post_certificates, expect=legal_only(201, scoped_legal=201), check=check_import_created,
    ),
    ("POST", "/api/v1/exams/{id}/renew-certificates/"): Route(
        request=post_renew, expect=legal_only(200), check=check_renewal,
    ),
    # --- upload templates (no personal data, no audit): "a" the roster's (hr, and the office
    # that reads the syncs), "b" the sign-in sheet's (the office and liaisons); the other kinds
    # in tests/api/test_upload_templates.py
    ("GET", "/api/v1/templates/{kind}.xlsx"): Route(
        request=lambda c, w, which, r: c.get(f"/api/v1/templates/{'roster' if which == 'a' else 'attendance'}.xlsx"),
        expect={"hr": (200, 403), "legal_office": 200, "liaison_a": (403, 200), "liaison_b": (403, 200),
                "viewer": 403, "staff": 403, "anonymous": 401,
                # a blank template holds nobody: a scoped office gets its role's templates
                "scoped_legal": 200, "scoped_hr": (200, 403)},
        check=check_template,
    ),
    ("GET", "/api/v1/training/hours-below/"): Route(
        request=get_with(hours_below_path),
        expect={**scoped(200, viewer=403), "hr": 403, "scoped_hr": 403},
        check=check_hours_below,
        variants=(
            Variant("csv", get_with(hours_below_path, "format=csv"), check_hours_below_download,
                    rows=lambda r: len(_hours_table(r))),
            Variant("xlsx", get_with(hours_below_path, "format=xlsx"), check_hours_below_download,
                    rows=lambda r: len(_hours_table(r))),
        ),
        audited=True,
    ),
    ("GET", "/api/v1/events/{id}/signin-sheet.docx"): Route(
        # the event each liaison's subtree organises: the other one is not theirs to run (404)
        request=get_with(signin_sheet_path),
        expect={**scoped(200, viewer=403), "hr": 403, "scoped_hr": 403},
        check=check_signin_sheet,
        audited=True,
        rows=lambda r: len(_sheet_staff_nos(r)),
    ),
    ("GET", "/api/v1/units/{code}/learning-file/{year}/"): Route(
        request=get_with(learning_file_path),
        expect={**scoped(200, viewer=403), "hr": 403, "scoped_hr": 403},
        check=check_learning_file,
        variants=(Variant("docx", get_with(learning_file_path, "format=docx"), check_learning_file,
                          rows=learning_file_rows),),
        audited=True,
    ),
}
# the SCIM provisioner may do SCIM (/scim/v2/, tests/scim/) and nothing else: 403 on every route
# that needs a capability; the entries written over ROLES (signing in and out) name it already
for _entry in MATRIX.values():
    _entry.expect.setdefault("provisioner", 403)


def schema_routes() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_schema_route_is_in_the_matrix():
    routes = schema_routes()
    missing = routes - set(MATRIX)
    stale = set(MATRIX) - routes
    assert not missing, f"routes without a permission-matrix entry: {sorted(missing)}"
    assert not stale, f"matrix entries for routes that no longer exist: {sorted(stale)}"


def test_every_matrix_entry_names_every_persona():
    for route, entry in MATRIX.items():
        assert set(entry.expect) == set(MATRIX_ROLES), route


@pytest.fixture
def world(personas, staff_persona, provisioner_persona, district, activity) -> World:
    # the offices scoped to A's subtree
    personas["scoped_legal"] = make_persona("scoped_legal", "legal_office", "A")
    personas["scoped_hr"] = make_persona("scoped_hr", "hr", "A")
    # the syncs of an hr office scoped to A and of one scoped to B
    syncs = {
        which: roster_sync_create(file=csv_bytes(district.a), file_name=f"{which}.csv", started_by=personas["hr"].user,
                                  root=Unit.objects.get(code=which.upper()))
        for which in ("a", "b")
    }
    imports = {
        which: import_record_create(
            kind=ImportKind.ATTENDANCE, file=b"x", file_name=f"{which}.csv", started_by=personas[f"liaison_{which}"].user
        )
        for which in ("a", "b")
    }
    # finished sign-in imports (that matched nobody): what a void can be asked about
    ImportRecord.objects.filter(pk__in=[r.pk for r in imports.values()]).update(status="succeeded")
    from exams.creation import exam_create

    last_year = exam_create(name="去年的学法用法考试", year=activity.year - 1, kind="annual_law")
    events = {"a": activity.events["a"], "b": activity.events["b"]}
    from django.utils import timezone

    period = period_week(timezone.localdate())
    reminders = {
        which: ReminderMessage.objects.create(
            kind="not_sat", subject_key=f"exam:{activity.exam.pk}", exam=activity.exam,
            unit=Unit.objects.get(code=which.upper()), channel=channel, recipient_key=key, recipient_masked=masked,
            period=period.key, expires_at=period.expires_at, status=MessageStatus.SENT, count=3, attempts=1,
        )
        for which, channel, key, masked in (("a", "email", "user:1", "l***@example.gov.cn"),
                                            ("b", "dingtalk", "unit:2", "oapi.dingtalk.com"))
    }
    jobs = {which: ReminderJob.objects.create(exam=activity.exam, dry_run=which == "a") for which in ("a", "b")}
    import datetime as dt

    from certificates.models import Certificate

    for person in (district.a[0], district.b[0]):
        Certificate.objects.create(number=f"证{person.staff_no}", staff=Staff.objects.get(staff_no=person.staff_no),
                                   issued_on=dt.date(2024, 1, 1), expires_on=dt.date(2030, 1, 1))
    # exams of A's and B's own offices, for unit heads only (nobody here: no one is enrolled)
    owned = {
        which: exam_create(name=f"{which.upper()}的专项考试", year=activity.year, kind="annual_law", audience="heads",
                           owner=Unit.objects.get(code=which.upper()))
        for which in ("a", "b")
    }
    assert not any(exam.candidates.exists() for exam in owned.values())
    owned_jobs = {which: ReminderJob.objects.create(exam=owned[which], dry_run=True) for which in ("a", "b")}
    return World(personas, district, syncs, imports, activity, {"a": activity.exam, "b": last_year}, events,
                 reminders, jobs, owned, owned_jobs)


def answer_text(response) -> str:
    """The answer as text, whatever its format (JSON, CSV, or the XML inside XLSX/DOCX)."""
    if response.content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                             if n.endswith(".xml"))
    return response.content.decode("utf-8-sig", "replace")


def hidden_values(world: World, role: str, content_type: str) -> list[str]:
    """What must not appear in an answer to ``role``: other units' people (staff number, name)
    and unit names, as whole values: a JSON string, a CSV cell, an XML text node."""
    values = [v for person in world.hidden_people(role) for v in (person.staff_no, person.name)]
    values += list(world.hidden_unit_names(role))
    if content_type.startswith("application/json"):
        return [f'"{v}"' for v in values]
    if content_type.startswith("text/csv"):
        return [f"{before}{v}{after}" for v in values for before in (",", "\n") for after in (",", "\r", "\n")]
    return [f">{v}<" for v in values]


def assert_no_leaks(response, world: World, role: str) -> None:
    if response.status_code == 204:  # no content, no Content-Type
        assert response.content == b""
        return
    text = answer_text(response)
    assert not PLAIN_ID.search(text), "a plain ID number in an answer"
    if response["Content-Type"].startswith("application/json"):
        text = json.dumps(response.json(), ensure_ascii=False)
    for value in hidden_values(world, role, response["Content-Type"]):
        assert value not in text, f"{role} sees {value!r} of another unit"
    for person in world.hidden_people(role):
        assert person.phone not in text, f"{role} sees a phone of another unit"


def _expected(entry: Route, variant: Variant, role: str) -> tuple[int, int]:
    expected = entry.expect[role]
    pair = expected if isinstance(expected, tuple) else (expected, expected)
    return tuple(variant.ok if variant.ok and 200 <= code < 300 else code for code in pair)  # type: ignore[return-value]


class Read:
    """A streamed answer (a file sent from disk) read whole, for the checks that read ``content``."""

    def __init__(self, response) -> None:
        self._response = response
        self.status_code = response.status_code
        self.content = b"".join(response.streaming_content)

    def __getitem__(self, header: str) -> str:
        return self._response[header]

    def json(self) -> Any:
        return json.loads(self.content)


def read(response):
    return Read(response) if getattr(response, "streaming", False) else response


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOWNLOADS = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", DOCX)


@pytest.mark.parametrize("role", MATRIX_ROLES)
@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_permission_matrix(route, role, world):
    entry = MATRIX[route]
    persona = world.personas[role]
    downloads: list[int] = []
    corrected = 0
    for variant in entry.all_variants():
        for which, wanted in zip(("a", "b"), _expected(entry, variant, role), strict=True):
            response = read(variant.request(persona.client(), world, which, role))
            assert response.status_code == wanted, (variant.name, which, response.status_code, response.content[:300])
            assert "no-store" in response["Cache-Control"]
            assert_no_leaks(response, world, role)
            if 200 <= response.status_code < 300:
                if variant.check is not None:
                    variant.check(response, world, which, role)
                if entry.audited and response["Content-Type"].startswith(DOWNLOADS):
                    downloads.append(variant.rows(response) if variant.rows else len(_download_rows(response)) - 1)
                corrected += entry.corrects or variant.corrects
            else:
                assert response["Content-Type"].startswith("application/json")
            if response.status_code == 404:
                # outside the scope looks exactly like not existing: no details
                assert response.json()["code"] == "not_found"
    # reading or refusing writes no audit record; every personal-data download writes one (an
    # import into a long-closed exam is audited too, as a late import: not a look at personal data)
    audits = list(AuditEvent.objects.exclude(action__in=[AuditAction.LATE_IMPORT, AuditAction.CORRECTION]).order_by("id"))
    assert [(a.action, a.rows) for a in audits] == [(AuditAction.EXPORT, n) for n in downloads]
    # every correction that went through writes one record of its own; a refused one writes none
    assert AuditEvent.objects.filter(action=AuditAction.CORRECTION).count() == corrected
