"""Roles: `python manage.py set_role USERNAME ROLE [--unit CODE] [--password PASSWORD] [--email ADDRESS]`, and the
admin."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from access.models import Role, UserRole
from tests.helpers import run_command

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_set_role_creates_the_user_with_a_password(units):
    outcome = run_command("set_role", "zhang", "hr", "--password", "Long-enough-pw-1")
    assert outcome.code == 0, outcome.err
    assert "已创建用户 zhang" in outcome.out
    user = User.objects.get(username="zhang")
    assert user.check_password("Long-enough-pw-1")
    assert user.api_role.role == Role.HR and user.api_role.unit is None


def test_set_role_liaison_needs_a_unit(units):
    outcome = run_command("set_role", "li", "liaison")
    assert outcome.code == 1
    assert outcome.err.strip() == "错误：单位联络员必须用 --unit 指定负责单位。"
    assert not User.objects.filter(username="li").exists()


def test_set_role_liaison_with_unit_and_json(units):
    outcome = run_command("set_role", "li", "liaison", "--unit", "t1", "--json")
    assert outcome.code == 0, outcome.err
    assert outcome.json() == {"username": "li", "role": "liaison", "unit": "T1", "created": True,
                              "rate_limit_exempt": False, "staff_no": None, "email": ""}
    assert UserRole.objects.get(user__username="li").unit == units["T1"]


def test_set_role_email_is_where_a_liaisons_reminders_go(units):
    outcome = run_command("set_role", "li", "liaison", "--unit", "A", "--email", " li@example.gov.cn ", "--json")
    assert outcome.code == 0, outcome.err
    assert outcome.json()["email"] == "li@example.gov.cn"
    assert User.objects.get(username="li").email == "li@example.gov.cn"
    # changing the role again without --email keeps it; an empty --email clears it
    run_command("set_role", "li", "liaison", "--unit", "T")
    assert User.objects.get(username="li").email == "li@example.gov.cn"
    assert "邮箱：li@example.gov.cn" in run_command("set_role", "li", "liaison", "--unit", "T").out
    run_command("set_role", "li", "liaison", "--unit", "T", "--email", "")
    assert User.objects.get(username="li").email == ""


def test_set_role_refuses_an_address_that_is_not_one(units):
    outcome = run_command("set_role", "li", "liaison", "--unit", "A", "--email", "not-an-address")
    assert outcome.code == 1 and outcome.err.strip() == "错误：邮箱地址无效：“not-an-address”。"
    assert not User.objects.filter(username="li").exists()


def test_set_role_refuses_unknown_unit_and_unit_for_other_roles(units):
    assert run_command("set_role", "li", "liaison", "--unit", "NOPE").err.strip() == "错误：单位代码“NOPE”不存在。"
    assert "只有单位联络员" in run_command("set_role", "x", "viewer", "--unit", "A").err


def test_set_role_changes_an_existing_users_role(units):
    run_command("set_role", "li", "liaison", "--unit", "A")
    outcome = run_command("set_role", "li", "viewer")
    assert "已更新用户 li" in outcome.out
    role = UserRole.objects.get(user__username="li")
    assert (role.role, role.unit) == (Role.VIEWER, None)
    assert UserRole.objects.count() == 1


def test_set_role_refuses_a_weak_password(units):
    outcome = run_command("set_role", "weak", "hr", "--password", "123")
    assert outcome.code == 1 and outcome.err.startswith("错误：密码不符合要求")
    assert not User.objects.filter(username="weak").exists()


def test_set_role_rejects_an_unknown_role_in_chinese(units):
    outcome = run_command("set_role", "x", "boss")
    assert outcome.code == 1
    assert outcome.err.strip() == "错误：角色应为 hr / legal_office / liaison / viewer / staff / provisioner 之一，而不是“boss”。"


def test_rate_limit_exempt_flag(units):
    run_command("set_role", "loader", "hr", "--rate-limit-exempt")
    assert UserRole.objects.get(user__username="loader").rate_limit_exempt


def test_admin_shows_roles_in_chinese(admin_client, personas):
    page = admin_client.get("/admin/access/userrole/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "用户角色" in text and "单位联络员" in text
    user_page = admin_client.get(f"/admin/auth/user/{personas['liaison_a'].user.pk}/change/")
    assert user_page.status_code == 200 and "负责单位" in user_page.content.decode()
    assert admin_client.get("/admin/audit/auditevent/").status_code == 200
    assert admin_client.get("/admin/api/loginthrottle/").status_code == 200


def test_admin_refuses_a_liaison_without_unit(admin_client, units):
    user = User.objects.create_user("newbie")
    response = admin_client.post("/admin/access/userrole/add/", {"user": user.pk, "role": "liaison", "unit": ""})
    assert response.status_code == 200
    assert "单位联络员必须指定负责单位。" in response.content.decode()
    assert not UserRole.objects.exists()


def test_demo_seeding_gives_one_login_per_role(units):
    from api.demo import DEMO_PASSWORD, seed_demo
    from roster.models import Unit
    from roster.units import units_rebuild_paths

    Unit.objects.create(code="LR", name="雒容镇", parent=units["D"], kind="town")
    units_rebuild_paths()
    summary = seed_demo(seed=1)
    assert "demo-liaison" in summary and DEMO_PASSWORD in summary
    roles = dict(UserRole.objects.values_list("user__username", "role"))
    assert roles == {"demo-hr": "hr", "demo-legal": "legal_office", "demo-liaison": "liaison", "demo-viewer": "viewer"}
    assert User.objects.get(username="demo-viewer").check_password(DEMO_PASSWORD)
    seed_demo(seed=1)  # running it again changes nothing
    assert UserRole.objects.count() == 4
