"""Every error a person or a client meets is in Chinese, in production mode (DEBUG off): a
malformed JSON or form body, an unsupported content type, throttling, a CSRF refusal (with no
advice about DEBUG), and the 400, 403, 404 and 500 pages, on the site's own base template.
Under /api/ every error keeps the API's JSON shape ``{detail, code[, errors]}``."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from rest_framework.test import APIClient

from api.throttling import ApiUserRateThrottle
from tests.api.conftest import PASSWORD

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
# words of Django's and DRF's own English pages and messages
ENGLISH = re.compile(r"JSON parse error|Malformed|Unsupported media type|Request was throttled|Forbidden|"
                     r"Not Found|Bad Request|Server Error|CSRF verification failed|DEBUG", re.IGNORECASE)


@pytest.fixture(autouse=True)
def _production_mode(settings):
    settings.DEBUG = False


def assert_chinese_json(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert {"detail", "code"} <= set(body) <= {"detail", "code", "errors"}, body
    assert CJK.search(body["detail"]) and not ENGLISH.search(body["detail"]), body
    if code:
        assert body["code"] == code, body
    return body


def assert_chinese_page(response, status: int) -> str:
    assert response.status_code == status
    html = response.content.decode()
    assert "干部学法考试管理系统" in html and "web/app.css" in html, "not the site's base template"
    assert CJK.search(html) and not ENGLISH.search(html), html[:1000]
    return html


# --- the API ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_malformed_json_is_a_chinese_400(units, language):
    response = APIClient().post("/api/v1/auth/token/", data='{"username": "hr", ', content_type="application/json",
                                HTTP_ACCEPT_LANGUAGE=language)
    assert assert_chinese_json(response, 400, "parse_error")["detail"] == "请求内容不是有效的 JSON。"


def test_malformed_json_on_a_write_is_a_chinese_400(personas):
    response = personas["hr"].client().post("/api/v1/staff/", data="[1, 2", content_type="application/json")
    assert_chinese_json(response, 400, "parse_error")


def test_a_malformed_form_is_a_chinese_400(personas):
    response = personas["hr"].client().post(
        "/api/v1/roster/syncs/", data=b"--x\r\nContent-Disposition: form-data\r\n\r\nbroken",
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 400
    assert CJK.search(response.json()["detail"]) and not ENGLISH.search(response.json()["detail"])


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_unsupported_content_type_is_a_chinese_415(units, language):
    response = APIClient().post("/api/v1/auth/token/", data="username=hr", content_type="text/plain",
                                HTTP_ACCEPT_LANGUAGE=language)
    assert_chinese_json(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_throttling_is_a_chinese_429(personas, monkeypatch, language):
    monkeypatch.setitem(ApiUserRateThrottle.THROTTLE_RATES, "user", "1/min")
    client = personas["hr"].client()
    assert client.get("/api/v1/units/").status_code == 200
    response = client.get("/api/v1/units/", HTTP_ACCEPT_LANGUAGE=language)
    body = assert_chinese_json(response, 429, "throttled")
    assert re.fullmatch(r"请求过于频繁，请 \d+ 秒后再试。", body["detail"]) and int(response["Retry-After"]) > 0


def test_a_session_write_without_csrf_is_a_chinese_403(personas):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(personas["hr"].user)
    response = client.post("/api/v1/exams/", {"name": "x", "year": 2026, "kind": "annual_law"}, format="json")
    body = assert_chinese_json(response, 403, "permission_denied")
    assert body["detail"].startswith("CSRF 校验失败：")


def test_not_authenticated_and_unknown_method_are_chinese(units):
    assert_chinese_json(APIClient().get("/api/v1/units/", HTTP_ACCEPT_LANGUAGE="en"), 401, "not_authenticated")
    assert_chinese_json(APIClient().put("/api/v1/auth/token/", {}, format="json"), 405, "method_not_allowed")


def test_an_unknown_api_address_outside_v1_is_json(units):
    assert_chinese_json(Client().get("/api/nothing-here/"), 404, "not_found")


# --- the pages ----------------------------------------------------------------------------


def test_the_404_page_is_the_sites_own(units):
    html = assert_chinese_page(Client().get("/no-such-page/"), 404)
    assert "页面不存在" in html


def test_the_400_page_is_the_sites_own(units):
    # a Host header the site does not serve (DisallowedHost) is Django's 400
    html = assert_chinese_page(Client().get("/login/", HTTP_HOST="attacker.example"), 400)
    assert "请求有误" in html


def test_the_403_page_is_the_sites_own(units, monkeypatch):
    from web.views import auth

    def refuse(*args, **kwargs):
        raise PermissionDenied

    monkeypatch.setattr(auth.LoginView, "get", refuse)
    html = assert_chinese_page(Client().get("/login/"), 403)
    assert "无权访问" in html


def test_the_500_page_is_the_sites_own_without_a_traceback(units, monkeypatch):
    from web.views import auth

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals /srv/app/config.py")

    monkeypatch.setattr(auth.LoginView, "get", boom)
    client = Client(raise_request_exception=False)
    html = assert_chinese_page(client.get("/login/"), 500)
    assert "服务器错误" in html and "secret internals" not in html and "Traceback" not in html


def test_the_csrf_page_is_chinese_and_says_nothing_about_debug(personas):
    client = Client(enforce_csrf_checks=True)
    page = client.post("/login/", {"username": "hr", "password": PASSWORD})
    html = assert_chinese_page(page, 403)
    assert "请求未通过安全校验" in html and "CSRF" in html
    assert "DEBUG" not in html and "settings" not in html
    assert "_auth_user_id" not in client.session


def test_the_csrf_page_names_the_reason_in_chinese(personas):
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")  # the cookie is set, the form's token is not sent
    html = assert_chinese_page(client.post("/login/", {"username": "hr", "password": PASSWORD}), 403)
    assert "缺少 CSRF 令牌" in html
