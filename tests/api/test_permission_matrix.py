"""The permission matrix: every route of the OpenAPI schema × every persona × an object inside
and outside the caller's scope.

``MATRIX`` is data keyed by route. Each entry says how to make the request for the object in
unit A's subtree ("a") and for the one in unit B's subtree ("b"), the status each persona
gets for each, and what to check in a successful answer. A route added to the API without
an entry here fails ``test_every_schema_route_is_in_the_matrix``.

Every answer is also checked for leaks: no plain ID number anywhere, and for a liaison no
staff number, name or phone of anyone outside their subtree.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from api.models import AuditEvent
from roster.models import RosterSync, Staff
from roster.services import roster_sync_create
from sheets.models import ImportKind, ImportRecord
from sheets.services import import_record_create
from tests.api.conftest import PASSWORD, ROLES, District, Persona
from tests.helpers import csv_bytes, new_id

pytestmark = pytest.mark.django_db

MASKED_ID = re.compile(r"^\d{6}\*{8}[\dX]{4}$")
PLAIN_ID = re.compile(r"(?<![\d*])\d{17}[\dX](?![\d*])")

Which = str  # "a": the object in unit A's subtree; "b": the one in unit B's subtree


@dataclass
class World:
    personas: dict[str, Persona]
    district: District
    syncs: dict[Which, RosterSync]
    imports: dict[Which, ImportRecord]

    def staff_no(self, which: Which) -> str:
        return (self.district.a if which == "a" else self.district.b)[0].staff_no

    def visible_staff(self, role: str) -> set[str]:
        if role == "liaison_a":
            return self.district.staff_nos("a")
        if role == "liaison_b":
            return self.district.staff_nos("b")
        return self.district.staff_nos("a", "b", "t1")

    def hidden_people(self, role: str) -> list:
        groups = {"liaison_a": ("b", "t1"), "liaison_b": ("a", "t1")}.get(role, ())
        return [p for g in groups for p in getattr(self.district, g)]


Request = Callable[[APIClient, World, Which, str], Any]
Check = Callable[[Any, World, Which, str], None]


@dataclass(frozen=True)
class Route:
    request: Request
    # persona -> status, or (status for "a", status for "b")
    expect: dict[str, int | tuple[int, int]]
    check: Check | None = None
    notes: str = ""
    extra: dict = field(default_factory=dict)


def scoped(ok: int, *, viewer: int, liaisons: bool = True) -> dict[str, int | tuple[int, int]]:
    """The usual pattern: hr and legal_office everywhere; each liaison only their own subtree."""
    return {
        "hr": ok,
        "legal_office": ok,
        "liaison_a": (ok, 404) if liaisons else 403,
        "liaison_b": (404, ok) if liaisons else 403,
        "viewer": viewer,
        "anonymous": 401,
    }


def hr_only(ok: int) -> dict[str, int | tuple[int, int]]:
    return {"hr": ok, "legal_office": 403, "liaison_a": 403, "liaison_b": 403, "viewer": 403, "anonymous": 401}


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
    allowed = {"liaison_a": {"A"}, "liaison_b": {"B"}}.get(role, {"D", "A", "B", "T", "T1", "E", "S1"})
    assert codes and codes <= allowed


def check_token(response, world: World, which: Which, role: str) -> None:
    assert response.json()["token"] == world.personas[role].token


def check_sync(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert set(body["progress"]) == {"done", "total"}
    assert {"created", "updated", "unchanged", "deactivated", "reactivated", "rejected"} <= set(body["counts"])


def check_sync_accepted(response, world: World, which: Which, role: str) -> None:
    body = response.json()
    assert RosterSync.objects.filter(pk=body["id"]).exists()
    assert response["Location"].endswith(f"/api/v1/roster/syncs/{body['id']}/")


def check_import(response, world: World, which: Which, role: str) -> None:
    assert response.json()["id"] == world.imports[which].pk


# --- requests ---------------------------------------------------------------------------

_numbers = itertools.count(5000)


def post_staff(client: APIClient, world: World, which: Which, role: str):
    body = {"staff_no": f"N{next(_numbers)}", "name": "新同事", "id_number": new_id(), "unit": which.upper(),
            "phone": "13912345678"}
    return client.post("/api/v1/staff/", body, format="json")


def post_sync(client: APIClient, world: World, which: Which, role: str):
    people = world.district.a if which == "a" else world.district.b
    upload = SimpleUploadedFile("roster.csv", csv_bytes(people), content_type="text/csv")
    return client.post("/api/v1/roster/syncs/", {"file": upload, "mode": "partial", "dry_run": "true"},
                       format="multipart")


def post_token(client: APIClient, world: World, which: Which, role: str):
    persona = world.personas[role]
    username = persona.user.username if persona.user else "nobody"
    password = PASSWORD if which == "a" and persona.user else "wrong-password"
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


MATRIX: dict[tuple[str, str], Route] = {
    ("POST", "/api/v1/auth/token/"): Route(
        request=post_token,
        # "a": the persona's own password; "b": a wrong one
        expect={**{r: (200, 400) for r in ROLES}, "anonymous": 400},
        check=check_token,
    ),
    ("GET", "/api/v1/units/"): Route(
        request=lambda c, w, which, r: c.get("/api/v1/units/" if which == "a" else "/api/v1/units/?parent=D"),
        expect={"hr": 200, "legal_office": 200, "liaison_a": 200, "liaison_b": 200, "viewer": 200, "anonymous": 401},
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
    ("POST", "/api/v1/staff/"): Route(request=post_staff, expect=hr_only(201), check=check_staff_created),
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
    ("POST", "/api/v1/roster/syncs/"): Route(request=post_sync, expect=hr_only(202), check=check_sync_accepted),
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
}


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
        assert set(entry.expect) == set(ROLES), route


@pytest.fixture
def world(personas, district) -> World:
    syncs = {
        which: roster_sync_create(file=csv_bytes(district.a), file_name=f"{which}.csv", started_by=personas["hr"].user)
        for which in ("a", "b")
    }
    imports = {
        which: import_record_create(
            kind=ImportKind.ATTENDANCE, file=b"x", file_name=f"{which}.csv", started_by=personas[f"liaison_{which}"].user
        )
        for which in ("a", "b")
    }
    return World(personas, district, syncs, imports)


def assert_no_leaks(response, world: World, role: str) -> None:
    text = response.content.decode()
    assert not PLAIN_ID.search(text), "a plain ID number in an answer"
    try:
        body = json.loads(text)
    except ValueError:
        return
    flat = json.dumps(body, ensure_ascii=False)
    for person in world.hidden_people(role):
        for value in (f'"{person.staff_no}"', f'"{person.name}"', person.phone):
            assert value not in flat, f"{role} sees {value} of another unit"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_permission_matrix(route, role, world):
    entry = MATRIX[route]
    expected = entry.expect[role]
    expected_a, expected_b = expected if isinstance(expected, tuple) else (expected, expected)
    persona = world.personas[role]
    for which, wanted in (("a", expected_a), ("b", expected_b)):
        response = entry.request(persona.client(), world, which, role)
        assert response.status_code == wanted, (which, response.status_code, response.content[:300])
        assert response["Content-Type"].startswith("application/json")
        assert "no-store" in response["Cache-Control"]
        assert_no_leaks(response, world, role)
        if 200 <= response.status_code < 300 and entry.check is not None:
            entry.check(response, world, which, role)
        if response.status_code == 404:
            # outside the scope looks exactly like not existing: no details
            assert response.json()["code"] == "not_found"
    # reading or refusing never writes an audit record
    assert not AuditEvent.objects.exists()
