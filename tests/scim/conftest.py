"""SCIM personas and a client that speaks to the live server over real HTTP."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from access.models import Role, UserRole
from tests.helpers import make_units, new_id

SCIM_TYPE = "application/scim+json"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
OURS = "urn:legaltrack:params:scim:schemas:extension:staff:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@dataclass
class Scim:
    """``requests`` against ``{live_server}/scim/v2`` with a bearer token."""

    base: str
    token: str

    def headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.token}", "Accept": SCIM_TYPE, **(extra or {})}

    def get(self, path: str, **params) -> requests.Response:
        return requests.get(self.base + path, params=params, headers=self.headers(), timeout=30)

    def send(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        import json

        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        return requests.request(method, self.base + path, data=data, timeout=30,
                                headers=self.headers({"Content-Type": SCIM_TYPE} if data is not None else None))

    def post(self, path: str, body: dict) -> requests.Response:
        return self.send("POST", path, body)

    def put(self, path: str, body: dict) -> requests.Response:
        return self.send("PUT", path, body)

    def patch(self, path: str, *operations: dict) -> requests.Response:
        return self.send("PATCH", path, {"schemas": [PATCH_OP], "Operations": list(operations)})

    def delete(self, path: str) -> requests.Response:
        return self.send("DELETE", path)


def user_body(staff_no: str, name: str = "张三", *, unit: str = "A", id_number: str | None = None, **core) -> dict:
    body = {
        "schemas": [CORE, ENTERPRISE, OURS],
        "userName": staff_no,
        "name": {"formatted": name},
        ENTERPRISE: {"department": unit},
        OURS: {"idNumber": id_number or new_id()},
    }
    body.update(core)
    return body


def token_for(username: str, role: str) -> str:
    user = get_user_model().objects.create_user(username=username, password="pw-不重要-123")
    UserRole.objects.create(user=user, role=role)
    return Token.objects.create(user=user).key


@pytest.fixture
def district(transactional_db):
    return make_units()


@pytest.fixture
def hr_scim(live_server, district) -> Scim:
    return Scim(f"{live_server.url}/scim/v2", token_for("hr1", Role.HR))


@pytest.fixture
def provisioner_scim(live_server, district) -> Scim:
    return Scim(f"{live_server.url}/scim/v2", token_for("idp", Role.PROVISIONER))
