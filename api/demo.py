"""Demo logins for the API, one per role (development only: `manage.py seed_demo` refuses production)."""

from __future__ import annotations

from rest_framework.authtoken.models import Token

from access.services import user_role_set

DEMO_PASSWORD = "demo-api-2026"
DEMO_USERS = (
    ("demo-hr", "hr", None),
    ("demo-legal", "legal_office", None),
    ("demo-liaison", "liaison", "LR"),  # 雒容镇 and its two sub-units
    ("demo-viewer", "viewer", None),
)


def seed_demo(*, seed: int) -> str:
    for username, role, unit in DEMO_USERS:
        user_role, _ = user_role_set(username=username, role=role, unit_code=unit, password=DEMO_PASSWORD)
        Token.objects.get_or_create(user=user_role.user)
    names = "、".join(u for u, _, _ in DEMO_USERS)
    return f"接口演示账号：{names}，密码 {DEMO_PASSWORD}（令牌：POST /api/v1/auth/token/）"
