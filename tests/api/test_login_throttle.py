"""Login throttling by account and by address: the 6th wrong password within 15 minutes for one
account is refused, also when the attempts arrive at the same time; from one address the 51st
(``LOGIN_ADDRESS_FAILURE_LIMIT``), so one person's typos never lock out a colleague."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from api.models import LoginThrottle
from tests.api.conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"


def login(username: str, password: str, address: str = "10.0.0.1"):
    return APIClient().post(URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=address)


def test_right_password_gets_the_token(personas):
    response = login("hr", PASSWORD)
    assert response.status_code == 200 and response.json() == {"token": personas["hr"].token}
    assert response["Cache-Control"] == "no-store"


def test_wrong_password_is_400_in_chinese(personas):
    response = login("hr", "nope")
    assert response.status_code == 400
    assert response.json() == {"detail": "用户名或密码错误。", "code": "invalid_credentials", "errors": []}


def test_sixth_wrong_password_for_an_account_is_refused_even_with_the_right_one(personas):
    for i in range(5):
        assert login("hr", "wrong", address=f"10.0.1.{i}").status_code == 400
    refused = login("hr", PASSWORD, address="10.0.9.9")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert refused.json()["detail"].startswith("登录失败次数过多，请 ")
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    # another account is not affected
    assert login("legal", PASSWORD, address="10.0.9.9").status_code == 200


def test_one_persons_failures_never_lock_another_account_from_the_same_address(personas):
    """A whole office behind one NAT: one person's five typos lock their own account, not a colleague's."""
    for _ in range(5):
        assert login("hr", "wrong", address="192.0.2.7").status_code == 400
    assert login("hr", PASSWORD, address="192.0.2.7").status_code == 429
    assert login("legal", PASSWORD, address="192.0.2.7").status_code == 200
    for name in ("a1", "a2", "a3", "a4", "a5", "a6", "a7"):
        assert login(name, "wrong", address="192.0.2.7").status_code == 400
    assert login("legal", PASSWORD, address="192.0.2.7").status_code == 200


def test_the_51st_failure_from_one_address_is_refused_whatever_the_account(personas, settings):
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT == 50
    for n in range(50):
        assert login(f"user{n // 5}", "wrong", address="192.0.2.7").status_code == 400
    refused = login("hr", PASSWORD, address="192.0.2.7")
    assert refused.status_code == 429 and refused.json()["detail"].startswith("登录失败次数过多")
    assert login("hr", PASSWORD, address="192.0.2.8").status_code == 200


def test_the_address_limit_is_its_own_setting(personas, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    for name in ("a1", "a2", "a3"):
        assert login(name, "wrong", address="192.0.2.9").status_code == 400
    assert login("hr", PASSWORD, address="192.0.2.9").status_code == 429
    # the account limit is unchanged
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 50
    for i in range(5):
        assert login("legal", "wrong", address=f"10.1.0.{i}").status_code == 400
    assert login("legal", PASSWORD, address="10.1.1.1").status_code == 429


def test_right_password_clears_the_accounts_failures(personas):
    for i in range(4):
        login("hr", "wrong", address=f"10.0.2.{i}")
    assert login("hr", PASSWORD, address="10.0.3.1").status_code == 200
    for i in range(5):
        assert login("hr", "wrong", address=f"10.0.4.{i}").status_code == 400
    assert login("hr", PASSWORD, address="10.0.5.1").status_code == 429


def test_failures_older_than_the_window_no_longer_count(personas, settings):
    for i in range(5):
        login("hr", "wrong", address=f"10.0.6.{i}")
    assert login("hr", PASSWORD, address="10.0.7.1").status_code == 429
    # 15 minutes pass
    for row in LoginThrottle.objects.all():
        row.failures = [t - settings.LOGIN_FAILURE_WINDOW_SECONDS - 1 for t in row.failures]
        row.save()
    assert login("hr", PASSWORD, address="10.0.7.1").status_code == 200


def test_the_window_slides(personas, settings):
    """Four failures long ago and one recent: once the old ones expire, only one counts."""
    for i in range(5):
        login("hr", "wrong", address=f"10.0.8.{i}")
    row = LoginThrottle.objects.get(key="account:hr")
    row.failures = [t - settings.LOGIN_FAILURE_WINDOW_SECONDS + 1 if n < 4 else t for n, t in enumerate(row.failures)]
    row.save()
    assert login("hr", "wrong", address="10.0.9.1").status_code == 429
    row.refresh_from_db()
    row.failures = [t - 2 if n < 4 else t for n, t in enumerate(row.failures)]
    row.save()
    assert login("hr", "wrong", address="10.0.9.2").status_code == 400


def test_admin_login_is_throttled_the_same_way(personas):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("boss", "", PASSWORD)
    client = Client()
    for _ in range(5):
        page = client.post("/admin/login/", {"username": "boss", "password": "wrong"})
        assert page.status_code == 200 and "_auth_user_id" not in client.session
    page = client.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    assert "登录失败次数过多" in page.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_get_exactly_five_tries(personas):
    if connection.vendor != "postgresql":
        pytest.skip("the concurrency test runs on PostgreSQL")
    attempts = 16
    barrier = threading.Barrier(attempts)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=30)
            status = login("hr", "wrong", address=f"10.9.0.{n}").status_code
            with lock:
                statuses.append(status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(statuses) == attempts, "some attempts did not finish"
    assert sorted(statuses) == [400] * 5 + [429] * (attempts - 5), statuses
    assert time.monotonic() - started < 30
    assert len(LoginThrottle.objects.get(key="account:hr").failures) == 5
