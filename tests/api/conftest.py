"""Personas for the API tests (like healthchecks' alice, bob and charlie): an HR user, a
legal-office user, the liaison of unit A, the liaison of unit B, a viewer, and anonymous.

The district (tests/helpers.make_units): D (root) > A, B, T > T1, E > S1. Staff live in A, B
and T1 (T1 is in neither A's nor B's subtree)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api.services import user_role_set
from roster.models import Staff
from roster.services import roster_sync, roster_sync_create
from tests.helpers import Person, csv_bytes, people

PASSWORD = "Zq8!long-enough-pass"

ROLES = ("hr", "legal_office", "liaison_a", "liaison_b", "viewer", "anonymous")


@pytest.fixture(autouse=True)
def _fast_hasher_and_clean_cache(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


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


def make_persona(name: str, role: str | None, unit: str | None = None, *, exempt: bool = False) -> Persona:
    if role is None:
        return Persona(name)
    user_role, _ = user_role_set(username=name, role=role, unit_code=unit, password=PASSWORD, rate_limit_exempt=exempt)
    token, _ = Token.objects.get_or_create(user=user_role.user)
    return Persona(name, user_role.user, token.key, unit)


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
