"""The key canary: the stored data knows which keys it was written with.

On first migrate a keyed MAC of a fixed string is stored for the encryption key and the hash key
(``FieldKeyCanary``; never the key itself). The web app, the workers and the commands compare the
configured keys with it at start and refuse to start on a mismatch, with one Chinese line naming
the setting. ``manage.py check`` reports the same, and also tries to decrypt stored values."""

from __future__ import annotations

import sys

from django.apps import apps as django_apps
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from . import idnumbers
from .models import FieldKeyCanary, KeyPurpose

EXIT_WRONG_KEY = 78  # EX_CONFIG


def encryption_setting_name() -> str:
    return "FIELD_ENCRYPTION_KEYS" if len(idnumbers.encryption_secrets()) > 1 else "FIELD_ENCRYPTION_KEY"


def hash_setting_name() -> str:
    if list(getattr(settings, "FIELD_HASH_KEYS", None) or []) not in ([], idnumbers.encryption_secrets()):
        return "FIELD_HASH_KEYS"
    return encryption_setting_name()


def _secrets(purpose: str) -> list[str]:
    return idnumbers.encryption_secrets() if purpose == KeyPurpose.AES else idnumbers.hash_secrets()


def _setting(purpose: str) -> str:
    return encryption_setting_name() if purpose == KeyPurpose.AES else hash_setting_name()


def _registered() -> list[tuple[str, str, bool]] | None:
    try:
        return list(FieldKeyCanary.objects.values_list("purpose", "canary", "retired"))
    except DatabaseError:
        return None  # not migrated yet, or no database: nothing to compare with


def field_key_problems() -> list[str]:
    """Why the configured keys do not fit the stored data, in Chinese; empty when they do."""
    rows = _registered()
    if not rows:
        return []
    problems: list[str] = []
    for purpose in (KeyPurpose.AES, KeyPurpose.HMAC):
        known = {canary for kind, canary, _ in rows if kind == purpose}
        active = {canary for kind, canary, retired in rows if kind == purpose and not retired}
        if not known:
            continue
        configured = [idnumbers.key_canary(secret, purpose) for secret in _secrets(purpose)]
        name, what = _setting(purpose), "加密" if purpose == KeyPurpose.AES else "散列"
        if not known.intersection(configured):
            problems.append(
                f"{name} 与数据库登记的{what}密钥不符：已存的身份证号不是用这个密钥写入的。请设置原来的密钥后再启动。"
            )
        elif configured[0] not in known:
            problems.append(f"{name} 的第一个（新）{what}密钥尚未登记：请先运行 python manage.py rotate_field_key。")
        elif missing := sorted(active.difference(configured)):
            problems.append(
                f"{name} 缺少数据库仍在使用的{what}密钥（编号 {missing[0][:8]}）：请加回原来的密钥，"
                "或先运行 python manage.py rotate_field_key 完成轮换。"
            )
    return problems


def field_key_decrypt_problems() -> list[str]:
    """Try to decrypt a few stored values (the first and last ID number, a robot's webhook URL)."""
    from .models import Staff

    problems: list[str] = []
    try:
        samples = [
            ("人员", row) for row in (
                Staff.objects.order_by("pk").values_list("pk", "id_number_cipher").first(),
                Staff.objects.order_by("-pk").values_list("pk", "id_number_cipher").first(),
            ) if row
        ]
        try:
            channels = django_apps.get_model("reminders", "UnitChannel")
        except LookupError:
            channels = None
        if channels is not None:
            robot = channels.objects.exclude(url_cipher="").order_by("pk").values_list("pk", "url_cipher").first()
            if robot:
                samples.append(("群机器人地址", robot))
    except DatabaseError:
        return []
    for label, (pk, cipher) in samples:
        try:
            idnumbers.decrypt(cipher)
        except Exception:
            problems.append(f"{encryption_setting_name()} 无法解密已存数据（{label} #{pk}）：请检查密钥是否正确、是否缺少旧密钥。")
            break
    return problems


def field_keys_refuse_start() -> None:
    """Stop this process with one Chinese line when the configured keys do not match."""
    problems = field_key_problems()
    if problems:
        sys.stderr.write(f"拒绝启动：{problems[0]}\n")
        sys.stderr.flush()
        raise SystemExit(EXIT_WRONG_KEY)


def field_keys_register() -> list[str]:
    """Register the configured keys that are new (a rotation's new first key). Allowed only when
    one configured key of each purpose is registered already: whoever adds a key holds the old."""
    rows = _registered() or []
    added: list[str] = []
    for purpose in (KeyPurpose.AES, KeyPurpose.HMAC):
        known = {canary for kind, canary, _ in rows if kind == purpose}
        configured = [idnumbers.key_canary(secret, purpose) for secret in _secrets(purpose)]
        if known and not known.intersection(configured):
            continue  # field_key_problems reports it; a wrong key is never registered
        for canary in configured:
            if canary not in known:
                FieldKeyCanary.objects.get_or_create(purpose=purpose, canary=canary)
                added.append(f"{purpose}:{canary[:8]}")
        FieldKeyCanary.objects.filter(purpose=purpose, canary=configured[0], retired=True).update(retired=False, retired_at=None)
    return added


def field_keys_retire(*, purpose: str) -> int:
    """After a rotation: every value is under the first key; the others may be removed."""
    first = idnumbers.key_canary(_secrets(purpose)[0], purpose)
    return FieldKeyCanary.objects.filter(purpose=purpose, retired=False).exclude(canary=first).update(
        retired=True, retired_at=timezone.now()
    )
