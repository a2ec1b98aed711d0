"""API tokens expire ``API_TOKEN_TTL_HOURS`` after they were issued, can be revoked by their
holder (``DELETE /api/v1/auth/token/``), and are revoked when their user's password, role or
active flag changes, whichever path makes the change (set_role, the admin, the model)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from access.models import UserRole
from access.services import user_role_set
from tests.api.conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"
PROBE = "/api/v1/units/"


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def age(key: str, **delta) -> None:
    Token.objects.filter(key=key).update(created=Token.objects.get(key=key).created - dt.timedelta(**delta))


def sign_in(username: str) -> str:
    response = APIClient().post(URL, {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


# --- expiry -----------------------------------------------------------------------------


def test_a_token_works_until_its_hours_are_up(personas, settings):
    assert settings.API_TOKEN_TTL_HOURS == 12
    key = personas["hr"].token
    age(key, hours=11, minutes=59)
    assert with_token(key).get(PROBE).status_code == 200


def test_an_expired_token_answers_401_in_chinese(personas):
    key = personas["hr"].token
    age(key, hours=12, seconds=1)
    response = with_token(key).get(PROBE)
    assert response.status_code == 401
    assert response.json() == {"detail": "令牌已过期，请重新获取。", "code": "authentication_failed"}
    assert response["WWW-Authenticate"] == "Token"


def test_the_lifetime_is_a_setting(personas, settings):
    settings.API_TOKEN_TTL_HOURS = 1
    key = personas["hr"].token
    age(key, minutes=61)
    assert with_token(key).get(PROBE).status_code == 401


def test_signing_in_after_expiry_issues_a_new_token_that_works(personas):
    old = personas["hr"].token
    age(old, hours=13)
    new = sign_in("hr")
    assert new != old
    assert with_token(new).get(PROBE).status_code == 200
    assert with_token(old).get(PROBE).status_code == 401


def test_signing_in_again_before_expiry_gives_the_same_token(personas):
    assert sign_in("hr") == personas["hr"].token


# --- revocation by the holder -------------------------------------------------------------


def test_delete_revokes_the_callers_token(personas):
    key = personas["liaison_a"].token
    other = personas["hr"].token
    response = with_token(key).delete(URL)
    assert response.status_code == 204 and response.content == b""
    again = with_token(key).get(PROBE)
    assert again.status_code == 401 and again.json()["code"] == "authentication_failed"
    assert with_token(key).delete(URL).status_code == 401
    # nobody else's token is touched
    assert with_token(other).get(PROBE).status_code == 200


def test_delete_without_a_token_is_401(personas):
    response = APIClient().delete(URL)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    assert Token.objects.count() == len([p for p in personas.values() if p.token])


def test_delete_with_a_session_is_401_and_revokes_nothing(personas):
    client = APIClient()
    client.force_login(personas["hr"].user)
    assert client.delete(URL).status_code == 401
    assert Token.objects.filter(key=personas["hr"].token).exists()


def test_delete_is_in_the_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/auth/token/"]["delete"]
    assert "204" in operation["responses"] and "401" in operation["responses"]


# --- revocation when the user changes ------------------------------------------------------


def test_set_role_password_revokes_the_users_tokens(personas):
    key = personas["hr"].token
    call_command("set_role", "hr", "hr", "--password", "An0ther-long-passw0rd", stdout=io.StringIO())
    assert with_token(key).get(PROBE).status_code == 401
    assert not Token.objects.filter(user=personas["hr"].user).exists()
    # the colleagues keep theirs
    assert with_token(personas["legal_office"].token).get(PROBE).status_code == 200


def test_set_role_with_another_role_revokes_the_users_tokens(personas):
    key = personas["liaison_a"].token
    call_command("set_role", "liaison_a", "liaison", "--unit", "B", stdout=io.StringIO())
    assert with_token(key).get(PROBE).status_code == 401


def test_set_role_unchanged_keeps_the_token(personas):
    key = personas["liaison_a"].token
    call_command("set_role", "liaison_a", "liaison", "--unit", "A", stdout=io.StringIO())
    assert with_token(key).get(PROBE).status_code == 200


def test_removing_a_role_revokes_the_users_tokens(personas):
    key = personas["viewer"].token
    UserRole.objects.filter(user=personas["viewer"].user).delete()
    assert not Token.objects.filter(key=key).exists()


def test_deactivating_a_user_revokes_their_tokens(personas):
    user = personas["hr"].user
    user.is_active = False
    user.save()
    assert not Token.objects.filter(user=user).exists()


def test_a_sign_in_keeps_the_token(personas):
    """Saving last_login on a sign-in is no reason to revoke anything."""
    client = Client()
    assert client.login(username="hr", password=PASSWORD)
    assert Token.objects.filter(key=personas["hr"].token).exists()


@pytest.fixture
def admin_client_of_boss(personas):
    get_user_model().objects.create_superuser("boss", "", PASSWORD)
    client = Client()
    assert client.login(username="boss", password=PASSWORD)
    return client


def test_changing_a_password_in_the_admin_revokes_the_tokens(personas, admin_client_of_boss):
    user = personas["hr"].user
    page = admin_client_of_boss.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": "An0ther-long-passw0rd", "password2": "An0ther-long-passw0rd", "usable_password": "true"},
    )
    assert page.status_code == 302, page.content.decode()[:2000]
    assert not Token.objects.filter(user=user).exists()


def test_removing_a_role_in_the_admin_revokes_the_tokens(personas, admin_client_of_boss):
    role = UserRole.objects.get(user=personas["liaison_b"].user)
    page = admin_client_of_boss.post(f"/admin/access/userrole/{role.pk}/delete/", {"post": "yes"})
    assert page.status_code == 302
    assert not Token.objects.filter(user=personas["liaison_b"].user).exists()


def test_a_service_that_fails_revokes_nothing(personas):
    """The revocation is part of the change's transaction: a refused change keeps the token."""
    from config.errors import DomainError

    with pytest.raises(DomainError):
        user_role_set(username="hr", role="liaison", unit_code="NOPE", password="An0ther-long-passw0rd")
    assert Token.objects.filter(key=personas["hr"].token).exists()
