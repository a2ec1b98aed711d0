"""Log in and out, each role's home page, CSRF on the forms, the wrong-password throttle."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def log_in(client: Client, username: str, password: str = PASSWORD):
    return client.post("/login/", {"username": username, "password": password}, follow=True)


@pytest.mark.parametrize(
    ("persona", "home"),
    [
        ("hr", "/roster/"),
        ("legal_office", "/exams/"),
        ("liaison_a", "/units/A/"),
        ("viewer", "/reports/annual/"),
    ],
)
def test_each_role_lands_on_its_home_page_after_login(personas, persona, home):
    response = log_in(Client(), personas[persona].username)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == home


def test_login_page_is_in_chinese(db):
    body = Client().get("/login/").content.decode()
    assert "用户名" in body and "密码" in body and 'lang="zh-CN"' in body


def test_login_form_is_refused_without_its_csrf_token(personas):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "hr", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_login_with_the_csrf_token_works(personas):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    token = page.cookies["csrftoken"].value
    response = client.post("/login/", {"username": "hr", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/"


def test_wrong_password_is_answered_in_chinese(personas):
    response = log_in(Client(), "hr", "wrong-password")
    assert "用户名或密码错误" in response.content.decode()


def test_sixth_wrong_password_within_the_window_is_refused_even_with_the_right_one(personas):
    client = Client()
    for _ in range(5):
        assert "用户名或密码错误" in log_in(client, "hr", "wrong-password").content.decode()
    response = log_in(client, "hr")
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_pages_send_anonymous_visitors_to_the_login_page(db):
    response = Client().get("/exams/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/exams/")


def test_logout_is_a_post_with_csrf(personas):
    client = personas["hr"].client(enforce_csrf_checks=True)
    assert client.post("/logout/").status_code == 403
    page = client.get("/roster/")
    assert 'action="/logout/"' in page.content.decode()
    response = client.post("/logout/", {"csrfmiddlewaretoken": page.cookies["csrftoken"].value})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/roster/").status_code == 302


def test_a_user_without_a_role_is_told_so(db):
    user = get_user_model().objects.create_user("nobody", password=PASSWORD)
    client = Client()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403 and "尚未分配角色" in response.content.decode()
    assert client.get("/exams/").status_code == 403


def test_menu_shows_only_what_the_role_may_do(personas):
    hr = personas["hr"].client().get("/roster/").content.decode()
    assert "名册同步" in hr and 'href="/exams/"' not in hr
    liaison = personas["liaison_a"].client().get("/exams/").content.decode()
    assert 'href="/roster/"' not in liaison and 'href="/events/"' in liaison
