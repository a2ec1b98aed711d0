"""Personas for the API tests (like healthchecks' alice, bob and charlie): an HR user, a
legal-office user, the liaison of unit A, the liaison of unit B, a viewer, and anonymous.

The district (tests/helpers.make_units): D (root) > A, B, T > T1, E > S1. Staff live in A, B
and T1 (T1 is in neither A's nor B's subtree)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from access.services import user_role_set
from roster.models import Staff
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import PASSWORD, Person, _fast_hasher_and_clean_cache, csv_bytes, people  # noqa: F401

ROLES = ("hr", "legal_office", "liaison_a", "liaison_b", "viewer", "staff", "provisioner", "anonymous")




@dataclass
class Persona:
    name: str
    user: object | None = None
    token: str | None = None
    unit: str | None = None
    extra: dict = field(default_factory=dict)

    def client(self) -> APIClient:
        client = APIClient()
        if self.token:
            client.credentials(HTTP_AUTHORIZATION=f"Token {self.token}")
        return client

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"} if self.token else {}


def make_persona(name: str, role: str | None, unit: str | None = None, *, exempt: bool = False,
                 staff_no: str | None = None) -> Persona:
    if role is None:
        return Persona(name)
    user_role, _ = user_role_set(username=name, role=role, unit_code=unit, password=PASSWORD, rate_limit_exempt=exempt,
                                 staff_no=staff_no)
    token, _ = Token.objects.get_or_create(user=user_role.user)
    return Persona(name, user_role.user, token.key, unit, extra={"staff_no": staff_no} if staff_no else {})


@pytest.fixture
def personas(units) -> dict[str, Persona]:
    return {
        "hr": make_persona("hr", "hr"),
        "legal_office": make_persona("legal", "legal_office"),
        "liaison_a": make_persona("liaison_a", "liaison", "A"),
        "liaison_b": make_persona("liaison_b", "liaison", "B"),
        "viewer": make_persona("viewer", "viewer"),
        "anonymous": Persona("anonymous"),
    }


@dataclass
class District:
    a: list[Person]
    b: list[Person]
    t1: list[Person]

    def staff_nos(self, *groups: str) -> set[str]:
        return {p.staff_no for g in groups for p in getattr(self, g)}


@pytest.fixture
def district(units) -> District:
    a = people(6, "A", start=1)
    b = people(4, "B", start=101)
    t1 = people(3, "T1", start=201)
    result = roster_sync(sync=roster_sync_create(file=csv_bytes(a + b + t1), file_name="roster.csv"))
    assert result.applied, result.errors
    assert Staff.objects.count() == 13
    return District(a, b, t1)


# --- exams, training and statistics (the second part of the API) --------------------------

RESULT_HEADER = ["姓名", "工号", "身份证号", "所在单位", "考试成绩", "交卷时间"]
EXEMPTION_HEADER = ["工号", "身份证号", "姓名", "免考原因"]
SIGNIN_HEADER = ["姓名", "单位", "工号"]


def result_rows(people_scores: list[tuple[Person, object]]) -> list[list[object]]:
    return [[p.name, p.staff_no, "", "某单位", score, ""] for p, score in people_scores]


@dataclass
class Activity:
    """One open law exam with every district member enrolled, and three training events.

    Exam: A's 0001 (80) and 0002 (50) sat, 0003 exempt; B's 0101 (90) sat; T1's 0201 (70) sat.
    Not sat: A 0004-0006, B 0102-0104, T1 0202-0203. Events: one organised by A (attended by
    A's 0001, 0002 and B's 0101), one by B (0101, 0102), one by the district D (T1's 0201).
    Snapshots are computed at the end."""

    exam: object
    events: dict[str, object]
    year: int


@pytest.fixture
def activity(district) -> Activity:
    import datetime as dt

    from django.utils import timezone

    from exams.creation import exam_create
    from exams.imports import exam_import_create, exam_import_run
    from reports.snapshots import snapshots_refresh
    from roster.models import Unit
    from sheets.models import ImportKind
    from training.attendance import attendance_record
    from training.events import training_event_create
    from training.models import TrainingKind

    today = timezone.localdate()
    exam = exam_create(name="学法用法考试", year=today.year, kind="annual_law",
                       opens_on=today - dt.timedelta(days=10), closes_on=today + dt.timedelta(days=10))
    a, b, t1 = district.a, district.b, district.t1
    exempt = exam_import_run(record=exam_import_create(
        exam=exam, kind=ImportKind.EXAM_EXEMPTIONS, file=csv_bytes([[a[2].staff_no, "", a[2].name, "长期病假"]],
                                                                    header=EXEMPTION_HEADER),
        file_name="exempt.csv"))
    assert exempt.applied == 1, exempt.message
    results = exam_import_run(record=exam_import_create(
        exam=exam, kind=ImportKind.EXAM_RESULTS,
        file=csv_bytes(result_rows([(a[0], 80), (a[1], 50), (b[0], 90), (t1[0], 70)]), header=RESULT_HEADER),
        file_name="results.csv"))
    assert results.applied == 4, results.message

    units = {u.code: u for u in Unit.objects.all()}
    events = {
        "a": training_event_create(title="财政局合同起草讲座", kind=TrainingKind.LECTURE, date=today, hours="2",
                                   organiser=units["A"]),
        # meant for B's people only: a liaison of A has no business with it
        "b": training_event_create(title="司法局旁听庭审", kind=TrainingKind.COURT_OBSERVATION, date=today, hours="3",
                                   organiser=units["B"], audience="units", audience_units=[units["B"]]),
        "d": training_event_create(title="全区法治专题学习", kind=TrainingKind.STUDY_SESSION, date=today, hours="1.5",
                                   organiser=units["D"]),
    }
    ids = dict(Staff.objects.values_list("staff_no", "id"))
    attendance_record(event=events["a"], staff_ids=[ids[a[0].staff_no], ids[a[1].staff_no], ids[b[0].staff_no]],
                      status="present")
    attendance_record(event=events["b"], staff_ids=[ids[b[0].staff_no], ids[b[1].staff_no]], status="present")
    attendance_record(event=events["d"], staff_ids=[ids[t1[0].staff_no]], status="present")
    snapshots_refresh(everything=True)
    return Activity(exam=exam, events=events, year=today.year)


@pytest.fixture
def staff_persona(personas, district) -> Persona:
    """The staff role (the self scope): the account of A's first person, 0001. Added to
    ``personas`` as "staff"."""
    personas["staff"] = make_persona("self_a", "staff", staff_no=district.a[0].staff_no)
    return personas["staff"]


@pytest.fixture
def provisioner_persona(personas) -> Persona:
    """A SCIM provisioner (HR's identity system): SCIM and nothing else. Added to ``personas``
    as "provisioner"."""
    personas["provisioner"] = make_persona("idp", "provisioner")
    return personas["provisioner"]
