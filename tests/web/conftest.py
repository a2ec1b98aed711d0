"""Personas and a small district for the page tests (Django's test client).

The district (tests/helpers.make_units): D (root) > A, B, T > T1, E > S1. Staff live in A
(6 people), B (4) and T1 (3). ``liaison_a`` looks after A, ``liaison_t`` after the town T
(whose subtree holds T1)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone

from access.services import user_role_set
from exams.creation import exam_create
from exams.models import Exam, ExamKind
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import PASSWORD, Person, _fast_hasher_and_clean_cache, csv_bytes, people  # noqa: F401


@dataclass
class Persona:
    username: str
    user: object

    def client(self, **kwargs) -> Client:
        client = Client(**kwargs)
        client.force_login(self.user)
        return client


def make_persona(username: str, role: str, unit: str | None = None) -> Persona:
    user_role, _ = user_role_set(username=username, role=role, unit_code=unit, password=PASSWORD)
    return Persona(username, user_role.user)


@pytest.fixture
def personas(units) -> dict[str, Persona]:
    return {
        "hr": make_persona("hr", "hr"),
        "legal_office": make_persona("legal", "legal_office"),
        "liaison_a": make_persona("liaison_a", "liaison", "A"),
        "liaison_t": make_persona("liaison_t", "liaison", "T"),
        "viewer": make_persona("viewer", "viewer"),
    }


@dataclass
class District:
    a: list[Person]
    b: list[Person]
    t1: list[Person]

    @property
    def everybody(self) -> list[Person]:
        return self.a + self.b + self.t1


@pytest.fixture
def district(units) -> District:
    a, b, t1 = people(6, "A", start=1), people(4, "B", start=101), people(3, "T1", start=201)
    for person in a:
        person.position = "科员"
    result = roster_sync(sync=roster_sync_create(file=csv_bytes(a + b + t1), file_name="roster.csv"))
    assert result.applied, result.errors
    return District(a, b, t1)


def open_exam(name: str = "学法用法考试") -> Exam:
    today = timezone.localdate()
    return exam_create(
        name=name, year=today.year, kind=ExamKind.ANNUAL_LAW,
        opens_on=today - dt.timedelta(days=10), closes_on=today + dt.timedelta(days=10),
    )


@pytest.fixture
def exam(district) -> Exam:
    return open_exam()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed(): ...``: run what the code inside leaves for after its commit (the
    enqueued tasks, which eager Celery then runs), as a real request's commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
