"""Security settings of the API: headers, rate limits, the error handler, the OpenAPI schema
and its Swagger UI from local files, and the production deployment checks."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.test import RequestFactory
from rest_framework.test import APIClient

from api.exceptions import exception_handler
from api.middleware import SecurityHeadersMiddleware, personal_data
from api.throttling import ApiAnonRateThrottle, ApiUserRateThrottle, UploadRateThrottle
from config.errors import DomainError, NotFound, Problem
from tests.api.conftest import make_persona

pytestmark = pytest.mark.django_db


# --- headers ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/units/", "/api/docs/", "/admin/login/", "/healthz", "/api/schema/"])
def test_every_response_carries_a_content_security_policy(path, personas, client):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


def test_personal_data_responses_are_never_cached(personas, district):
    for path in ("/api/v1/staff/", f"/api/v1/staff/{district.a[0].staff_no}/", "/api/v1/units/"):
        assert personas["hr"].client().get(path)["Cache-Control"] == "no-store"
    # errors under the API too
    assert APIClient().get("/api/v1/staff/")["Cache-Control"] == "no-store"


def test_a_server_rendered_page_marked_personal_data_is_not_cached():
    view = personal_data(lambda request: HttpResponse("名单"))
    middleware = SecurityHeadersMiddleware(view)
    response = middleware(RequestFactory().get("/units/A/staff"))
    assert response["Cache-Control"] == "no-store"
    plain = SecurityHeadersMiddleware(lambda request: HttpResponse("首页"))(RequestFactory().get("/"))
    assert "Cache-Control" not in plain


# --- the exception handler --------------------------------------------------------------


def test_domain_errors_become_4xx_json_with_their_problems():
    response = exception_handler(DomainError("文件有误。", [Problem(3, "工号", "", "工号为空。")]), {})
    assert response.status_code == 400
    assert response.data == {"detail": "文件有误。", "code": "invalid", "errors": [
        {"row": 3, "column": "工号", "value": "", "message": "工号为空。", "kind": "invalid"}]}
    assert exception_handler(NotFound("没有这个考试。"), {}).status_code == 404


def test_unexpected_errors_become_a_500_without_a_traceback(caplog):
    response = exception_handler(RuntimeError("secret 450203199001011234"), {"view": None})
    assert response.status_code == 500
    assert response.data == {"detail": "服务器内部错误，请稍后再试。", "code": "server_error"}


# --- rate limits ------------------------------------------------------------------------


def test_api_rate_limit_answers_429_and_spares_an_exempt_user(personas, monkeypatch):
    monkeypatch.setitem(ApiUserRateThrottle.THROTTLE_RATES, "user", "3/min")
    loader = make_persona("loader", "hr", exempt=True)
    client = personas["hr"].client()
    statuses = [client.get("/api/v1/units/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/units/")
    assert refused.json()["code"] == "throttled" and int(refused["Retry-After"]) > 0
    assert all(loader.client().get("/api/v1/units/").status_code == 200 for _ in range(10))


def test_anonymous_rate_limit_on_the_token_endpoint(units, monkeypatch):
    """Anonymous callers reach only the token endpoint (everything else answers 401 first)."""
    monkeypatch.setitem(ApiAnonRateThrottle.THROTTLE_RATES, "anon", "2/min")
    statuses = [
        APIClient().post("/api/v1/auth/token/", {"username": f"u{i}", "password": "x"}, format="json",
                         REMOTE_ADDR="203.0.113.5").status_code
        for i in range(3)
    ]
    assert statuses == [400, 400, 429]


def test_uploads_have_their_own_rate(personas, monkeypatch):
    monkeypatch.setitem(UploadRateThrottle.THROTTLE_RATES, "uploads", "2/min")
    client = personas["hr"].client()
    statuses = [client.patch("/api/v1/staff/NOPE/", {}, format="json").status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
    assert client.get("/api/v1/staff/").status_code == 200  # reads are not counted as uploads


# --- OpenAPI and Swagger UI -------------------------------------------------------------


def test_schema_is_openapi_3(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/staff/" in schema["paths"] and "tokenAuth" in schema["components"]["securitySchemes"]


def test_swagger_ui_is_served_from_local_static_files(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "a CDN reference"
    sources = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
    static = [s for s in sources if s.startswith(settings.STATIC_URL) or s.startswith("/" + settings.STATIC_URL)]
    assert any("swagger-ui-bundle.js" in s for s in static)
    for source in static:
        relative = source.split(settings.STATIC_URL, 1)[1]
        assert finders.find(relative), f"missing static file {relative}"
    # the init script is its own file, so the CSP needs no inline script
    script = next(s for s in sources if "script" in s and "static" not in s)
    assert client.get(script).status_code == 200
    assert "<script>" not in html.replace("<script src", "")


# --- production settings ----------------------------------------------------------------


def test_deploy_checks_pass_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "DEBUG": "0",
        "SECRET_KEY": "ci-" + secrets.token_urlsafe(48),
        "FIELD_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
        "ALLOWED_HOSTS": "example.org",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{tmp_path / 'deploy.sqlite3'}"),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- hostile input (found by schemathesis) ----------------------------------------------


def test_nul_characters_are_refused_not_server_errors(personas, units):
    """PostgreSQL refuses NUL in a query; every way in answers 400 or 404 instead of 500."""
    client = personas["hr"].client()
    assert client.post("/api/v1/staff/", {"unit": "E\x00", "staff_no": "x", "name": "y", "id_number": "1" * 18},
                       format="json").status_code == 400
    assert client.post("/api/v1/staff/", {"unit": "E", "staff_no": "x\x00", "name": "y", "id_number": "1" * 18},
                       format="json").status_code == 400
    for path in ("/api/v1/staff/?unit=E%00", "/api/v1/staff/?search=E%00", "/api/v1/units/?parent=E%00"):
        assert client.get(path).status_code == 400, path
    for path in ("/api/v1/staff/E%00/", "/api/v1/units/E%00/"):
        assert client.get(path).status_code == 404, path
    assert APIClient().get("/api/v1/units/", HTTP_AUTHORIZATION="Token abc\x00def").status_code == 401


@pytest.mark.parametrize("field", ["mode", "dry_run", "skip_invalid", "allow_mass_deactivation"])
def test_blank_form_fields_are_refused_rather_than_defaulted(field, personas, units):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("r.csv", b"a,b\n", content_type="text/csv")
    response = personas["hr"].client().post("/api/v1/roster/syncs/", {"file": upload, field: ""}, format="multipart")
    assert response.status_code == 400 and field in response.json()["errors"]
