"""The provisioner role may do SCIM and nothing else: its token is refused on every route of
/api/v1/ (real HTTP, the live server), and a provisioner account gets no page. Groups (the
units) are read-only, with their members."""

from __future__ import annotations

import io
import re

import pytest
import requests
from django.core.management import call_command
from django.test import Client
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator

from access.models import Role
from roster.models import Staff
from roster.staff import staff_create
from tests.helpers import new_id
from tests.scim.conftest import ERROR, SCIM_TYPE, token_for


def api_routes() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    )


def test_a_provisioner_token_is_refused_on_every_api_route(provisioner_scim, live_server, district):
    staff_create(staff_no="1", name="甲", id_number=new_id(), unit=district["A"])
    token = provisioner_scim.token
    assert provisioner_scim.get("/Users").status_code == 200  # the same token works for SCIM
    routes = api_routes()
    assert len(routes) > 20
    answered = {}
    for method, path in routes:
        if path == "/api/v1/auth/token/":
            continue  # signing in and out: open to every account
        response = requests.request(method, live_server.url + path, headers={"Authorization": f"Token {token}"},
                                    json={}, timeout=30)
        answered[(method, path)] = response.status_code
    wrong = {route: status for route, status in answered.items() if status not in (403, 404, 405)}
    assert not wrong, wrong
    # and the bearer form of the same token does not open the API either
    assert requests.get(live_server.url + "/api/v1/staff/", headers={"Authorization": f"Bearer {token}"},
                        timeout=30).status_code in (401, 403)


def page_paths() -> list[str]:
    """Every page of the web app whose address takes no argument, and a few that do."""
    paths = []
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) == "":
            for sub in pattern.url_patterns:
                route = str(sub.pattern)
                if "<" not in route and route not in ("login/", "logout/"):
                    paths.append("/" + route)
    return [*paths, "/units/A/", "/people/1/", "/exams/1/", "/roster/syncs/1/"]


def test_a_provisioner_account_gets_no_page(district):
    from django.contrib.auth import get_user_model

    token_for("idp", Role.PROVISIONER)
    staff_create(staff_no="1", name="甲", id_number=new_id(), unit=district["A"])
    client = Client()
    client.force_login(get_user_model().objects.get(username="idp"))
    statuses = {path: client.get(path).status_code for path in page_paths()}
    assert statuses["/units/"] == 403
    wrong = {path: status for path, status in statuses.items() if status not in (403, 404)}
    assert not wrong, wrong


def test_set_role_gives_the_provisioner_role(district):
    out = io.StringIO()
    call_command("set_role", "idp2", "provisioner", stdout=out)
    from access.models import UserRole

    assert UserRole.objects.get(user__username="idp2").role == "provisioner"


# --- Groups -------------------------------------------------------------------------------------
@pytest.fixture
def staffed(district):
    staff_create(staff_no="1", name="甲", id_number=new_id(), unit=district["A"])
    staff_create(staff_no="2", name="乙", id_number=new_id(), unit=district["A"])
    staff_create(staff_no="3", name="丙", id_number=new_id(), unit=district["B"])
    Staff.objects.filter(staff_no="2").update(is_active=False)
    return district


def test_groups_are_the_units_with_their_active_members(provisioner_scim, staffed):
    body = provisioner_scim.get("/Groups").json()
    assert body["totalResults"] == len(staffed)
    by_code = {g["externalId"]: g for g in body["Resources"]}
    a = by_code["A"]
    assert a["displayName"] == staffed["A"].name and a["id"] == str(staffed["A"].pk)
    assert [m["display"] for m in a["members"]] == ["甲"]
    one = provisioner_scim.get(f"/Groups/{staffed['B'].pk}").json()
    assert [m["value"] for m in one["members"]] == [str(Staff.objects.get(staff_no="3").pk)]
    assert one["members"][0]["$ref"].endswith(f"/scim/v2/Users/{one['members'][0]['value']}")
    assert "members" not in provisioner_scim.get(f"/Groups/{staffed['B'].pk}",
                                                  excludedAttributes="members").json()
    filtered = provisioner_scim.get("/Groups", filter='externalId eq "B"').json()
    assert [g["externalId"] for g in filtered["Resources"]] == ["B"]
    named = provisioner_scim.get("/Groups", filter=f'displayName eq "{staffed["T1"].name}"').json()
    assert [g["externalId"] for g in named["Resources"]] == ["T1"]


@pytest.mark.parametrize("method, path", [("POST", "/Groups"), ("PUT", "/Groups/{pk}"), ("PATCH", "/Groups/{pk}"),
                                          ("DELETE", "/Groups/{pk}")])
def test_groups_are_read_only(provisioner_scim, staffed, method, path):
    response = provisioner_scim.send(method, path.format(pk=staffed["A"].pk),
                                     {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "x"})
    assert response.status_code == 405
    assert response.headers["Content-Type"].startswith(SCIM_TYPE) and response.json()["schemas"] == [ERROR]
    assert provisioner_scim.get(f"/Groups/{staffed['A'].pk}").json()["displayName"] == staffed["A"].name


def test_unknown_group_is_404(provisioner_scim, staffed):
    assert provisioner_scim.get("/Groups/999999").status_code == 404


def test_discovery_endpoints(provisioner_scim, staffed):
    spc = provisioner_scim.get("/ServiceProviderConfig").json()
    assert spc["patch"]["supported"] is True and spc["filter"]["supported"] is True
    assert spc["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    types = provisioner_scim.get("/ResourceTypes").json()
    assert {t["id"] for t in types["Resources"]} == {"User", "Group"}
    schemas = provisioner_scim.get("/Schemas").json()["Resources"]
    ours = next(s for s in schemas if s["id"].startswith("urn:legaltrack"))
    id_number = next(a for a in ours["attributes"] if a["name"] == "idNumber")
    assert (id_number["returned"], id_number["mutability"]) == ("never", "writeOnly")
    enterprise = next(s for s in schemas if s["id"].endswith("enterprise:2.0:User"))
    department = next(a for a in enterprise["attributes"] if a["name"] == "department")
    assert set(department["canonicalValues"]) == set(staffed)
    assert provisioner_scim.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").json()["name"] == "User"
    assert provisioner_scim.get("/ResourceTypes/Group").json()["endpoint"] == "/Groups"
