"""Outside tools against the server: ``scim2-client`` drives it over HTTP (create, filter,
patch, deactivate, reactivate), and ``scim2-tester`` runs its discovery, crud and misc checks
against a real server process (gunicorn on ``SCIM_TESTER_PORT``, default 8117) on the test
database. Both come from requirements-dev.txt."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from access.models import Role
from roster.idnumbers import check_digit
from roster.models import Staff
from tests.helpers import make_units, new_id
from tests.scim.conftest import ENTERPRISE, OURS, token_for

httpx2 = pytest.importorskip("httpx2", reason="scim2-client[httpx2] (requirements-dev.txt)")
scim2_client = pytest.importorskip("scim2_client")
scim2_tester = pytest.importorskip("scim2_tester", reason="scim2-tester (requirements-dev.txt)")
from scim2_client.engines.httpx2 import SyncSCIMClient  # noqa: E402
from scim2_models import Error, ListResponse, PatchOp, PatchOperation, SearchRequest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def client_for(base: str, token: str, transport=None) -> SyncSCIMClient:
    http = httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60,
                         **({"transport": transport} if transport else {}))
    return SyncSCIMClient(http)


# --- scim2-client --------------------------------------------------------------------------
def test_scim2_client_creates_filters_patches_deactivates_and_reactivates(live_server, transactional_db, settings):
    settings.ROSTER_MASS_DEACTIVATION_RATIO = 1.0
    make_units()
    client = client_for(f"{live_server.url}/scim/v2", token_for("idp", Role.PROVISIONER))
    client.discover()
    User = client.get_resource_model("User")
    number = new_id()
    created = client.create(User.model_validate({
        "userName": "8001", "name": {"formatted": "周一"}, "title": "科员",
        ENTERPRISE: {"department": "A"}, OURS: {"idNumber": number, "category": "公务员"},
    }))
    assert created.user_name == "8001" and created.active is True
    assert Staff.objects.get(staff_no="8001").reveal_id_number() == number

    found = client.search(User, search_request=SearchRequest(filter='userName eq "8001" and active eq true'))
    assert isinstance(found, ListResponse) and found.total_results == 1
    assert found.resources[0].id == created.id

    PatchOpUser = PatchOp[User]
    patched = client.modify(User, created.id, PatchOpUser(operations=[
        PatchOperation(op=PatchOperation.Op.replace_, path="title", value="副科长"),
        PatchOperation(op=PatchOperation.Op.replace_, path=f"{ENTERPRISE}:department", value="B"),
    ]))
    staff = Staff.objects.select_related("unit").get(staff_no="8001")
    assert (staff.position, staff.unit.code) == ("副科长", "B")
    assert patched is None or patched.title == "副科长"

    client.modify(User, created.id, PatchOpUser(operations=[
        PatchOperation(op=PatchOperation.Op.replace_, path="active", value=False)]))
    assert not Staff.objects.get(staff_no="8001").is_active
    assert client.query(User, created.id).active is False

    client.delete(User, created.id)
    gone = client.query(User, created.id, raise_scim_errors=False, expected_status_codes=None)
    assert isinstance(gone, Error) and gone.status == 404

    again = client.create(User.model_validate({"userName": "8001", "name": {"formatted": "周一"},
                                               ENTERPRISE: {"department": "A"}, OURS: {"category": "公务员"}}))
    assert again.id == created.id and again.active is True
    assert Staff.objects.get(staff_no="8001").is_active


# --- scim2-tester --------------------------------------------------------------------------
@pytest.fixture
def server_process(transactional_db):
    """gunicorn serving the test database, in a process of its own (PostgreSQL: another
    process cannot see SQLite's in-memory test database)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL on PostgreSQL: the server runs in a process of its own")
    port = int(os.environ.get("SCIM_TESTER_PORT", "8117"))
    database = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}",
        FIELD_ENCRYPTION_KEY=settings.FIELD_ENCRYPTION_KEY,
        # the tester deletes every user it creates: the guard would refuse the clean-up
        # (it has tests of its own in test_scim_users.py)
        ROSTER_MASS_DEACTIVATION_RATIO="1",
    )
    log = Path(settings.BASE_DIR) / "var" / f"scim-tester-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--threads", "4",
         "--timeout", "120"],
        cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/scim/v2"
    try:
        deadline = time.time() + 60
        while True:
            try:
                requests.get(base + "/ServiceProviderConfig", timeout=10)
                break
            except requests.RequestException:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"server did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        handle.close()


def valid_id_number() -> str:
    body = f"110101{random.randint(1950, 1999)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}" \
           f"{random.randint(0, 999):03d}"
    return body + check_digit(body)


class ValidIdNumbers(httpx2.HTTPTransport):
    """Puts a valid ID number where the tester wrote a random string, so that its checks get
    past the business rule (the run without it shows the rule's answers)."""

    def handle_request(self, request):
        if request.method in ("POST", "PUT") and request.content:
            body = json.loads(request.content)
            if isinstance(body.get(OURS), dict) and "idNumber" in body[OURS]:
                body[OURS]["idNumber"] = valid_id_number()
                headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
                request = httpx2.Request(request.method, request.url, headers=headers, content=json.dumps(body))
        return super().handle_request(request)


TAGS = {"discovery", "crud", "misc"}


def run_tester(base: str, token: str, transport=None):
    from scim2_tester import Status, check_server

    results = check_server(client_for(base, token, transport), include_tags=TAGS, resource_types=["User"])
    return [(r.status, r.title, r.reason or "") for r in results], Status


def test_scim2_tester_finds_no_error_once_id_numbers_are_valid(server_process):
    make_units()
    results, Status = run_tester(server_process, token_for("idp", Role.PROVISIONER), ValidIdNumbers())
    bad = [r for r in results if r[0] in (Status.ERROR, Status.CRITICAL)]
    assert not bad, bad
    titles = {title for status, title, _ in results if status == Status.SUCCESS}
    assert {"object_creation", "object_query", "object_replacement", "object_deletion", "random_url",
            "query_all_schemas", "service_provider_config_endpoint"} <= titles


def test_scim2_tester_as_is_meets_only_the_id_number_rule(server_process):
    """The tester's random ID numbers fail the checksum: each such result is a 400
    invalidValue naming the ID number (docs/scim.md lists them); nothing else fails."""
    make_units()
    token = token_for("idp", Role.PROVISIONER)
    results, Status = run_tester(server_process, token)
    assert not [r for r in results if r[0] == Status.CRITICAL]
    errors = [r for r in results if r[0] == Status.ERROR]
    assert errors, "the tester's random ID numbers should be refused"
    for _status, title, reason in errors:
        assert "身份证号" in reason, (title, reason)
    for status, title, reason in results:
        if title in ("random_url", "query_all_schemas", "query_all_resource_types", "service_provider_config_endpoint"):
            assert status == Status.SUCCESS, (title, reason)
    # what the server answers such a value: a SCIM 400 invalidValue
    import uuid

    response = requests.post(f"{server_process}/Users", timeout=30, json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, OURS], "userName": str(uuid.uuid4()),
        "name": {"formatted": str(uuid.uuid4())}, ENTERPRISE: {"department": "A"}, OURS: {"idNumber": str(uuid.uuid4())},
    }, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400 and response.json()["scimType"] == "invalidValue"
    print("\n".join(f"{s.name} {t}: {r[:120]}" for s, t, r in results if s != Status.SUCCESS))
