"""What production shows to a stranger: the schema and Swagger UI only to a signed-in user
(``API_DOCS_PUBLIC``), ``X-Forwarded-Proto`` believed only with ``TRUST_X_FORWARDED_PROTO``,
and the compose file set up for the nginx in front of it."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys

import pytest
import yaml
from django.conf import settings as django_settings
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def production_settings(**extra: str) -> dict:
    """The settings production mode computes, read by a fresh process."""
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "DEBUG": "0",
        "SECRET_KEY": "t-" + secrets.token_urlsafe(48),
        "FIELD_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
        "ALLOWED_HOSTS": "example.org",
        **extra,
    }
    for name in ("TRUST_X_FORWARDED_PROTO", "API_DOCS_PUBLIC"):
        if name not in extra:
            env.pop(name, None)
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'docs': s.API_DOCS_PUBLIC, 'proxy': getattr(s, 'SECURE_PROXY_SSL_HEADER', None), "
        "'ttl': s.API_TOKEN_TTL_HOURS, 'address_limit': s.LOGIN_ADDRESS_FAILURE_LIMIT}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=django_settings.BASE_DIR, capture_output=True, text=True,
                          timeout=60, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_production_defaults():
    values = production_settings()
    assert values == {"docs": False, "proxy": None, "ttl": 12, "address_limit": 50}


def test_the_proxy_header_is_believed_only_when_configured():
    assert production_settings(TRUST_X_FORWARDED_PROTO="true")["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert production_settings(TRUST_X_FORWARDED_PROTO="false")["proxy"] is None


def test_development_serves_the_docs_to_anyone(settings):
    assert settings.API_DOCS_PUBLIC is True  # the test run is development mode
    assert Client().get("/api/schema/?format=json").status_code == 200
    assert Client().get("/api/docs/").status_code == 200


@pytest.fixture
def private_docs(settings):
    settings.API_DOCS_PUBLIC = False
    settings.DEBUG = False


def test_in_production_the_schema_needs_a_signed_in_user(private_docs, personas):
    refused = APIClient().get("/api/schema/?format=json")
    assert refused.status_code == 401
    assert refused.json()["code"] == "not_authenticated"
    refused_yaml = APIClient().get("/api/schema/")
    assert refused_yaml.status_code == 401 and refused_yaml["Content-Type"].startswith("application/json")
    # a token, or a session
    assert personas["viewer"].client().get("/api/schema/?format=json").json()["openapi"].startswith("3.")
    session = Client()
    session.force_login(personas["hr"].user)
    assert session.get("/api/schema/?format=json").status_code == 200


def test_in_production_swagger_ui_sends_a_stranger_to_sign_in(private_docs, personas):
    page = Client().get("/api/docs/")
    assert page.status_code == 302 and page["Location"].startswith("/login/?next=/api/docs/")
    assert Client().get("/api/docs/?script=").status_code == 302
    session = Client()
    session.force_login(personas["hr"].user)
    assert session.get("/api/docs/").status_code == 200
    assert session.get("/api/docs/?script=").status_code == 200


def test_an_expired_token_does_not_open_the_docs(private_docs, personas):
    import datetime as dt

    from rest_framework.authtoken.models import Token

    Token.objects.filter(key=personas["hr"].token).update(created=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert personas["hr"].client().get("/api/schema/?format=json").status_code == 401


def test_compose_trusts_the_proxy_it_is_deployed_behind():
    spec = yaml.safe_load((django_settings.BASE_DIR / "docker-compose.yml").read_text())
    env = spec["services"]["web"]["environment"]
    assert env["TRUST_X_FORWARDED_PROTO"].endswith(":-true}")
    assert env["API_NUM_PROXIES"].endswith(":-1}")
    # gunicorn's port is reached by the proxy on the host, not by the network
    assert spec["services"]["web"]["ports"] == ["${WEB_BIND:-127.0.0.1}:8000:8000"]


def test_https_behind_the_proxy_does_not_redirect(settings, units):
    """With the header trusted, a request nginx forwarded over HTTPS is not redirected again
    (no loop); a plain HTTP one still is."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert Client().get("/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    assert Client().get("/login/", HTTP_X_FORWARDED_PROTO="http").status_code == 301
