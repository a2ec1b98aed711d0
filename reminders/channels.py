"""Writes for the units' group robots (WeCom, DingTalk). A webhook URL and a signing secret are
credentials: sealed with the field key (AES-GCM, ``roster.idnumbers``), never logged, and shown
only as the URL's host."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from config.errors import DomainError, NotFound
from roster import idnumbers
from roster.models import Unit

from .models import ROBOTS, Channel, UnitChannel

MAX_URL_LENGTH = 2000
MAX_SECRET_LENGTH = 200


def webhook_check(url: str) -> tuple[str, str]:
    """The URL as it will be stored, and its host; DomainError (without the URL: it is a
    credential) when it is not an http/https URL with a host."""
    url = (url or "").strip()
    if not url:
        raise DomainError("Webhook 地址不能为空。")
    if len(url) > MAX_URL_LENGTH:
        raise DomainError(f"Webhook 地址过长（最多 {MAX_URL_LENGTH} 个字符）。")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise DomainError("Webhook 地址不能含空白或控制字符。")
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        raise DomainError("Webhook 地址无效。") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise DomainError("Webhook 地址只接受 http 或 https。")
    if not host:
        raise DomainError("Webhook 地址缺少主机名。")
    if parts.username or parts.password:
        raise DomainError("Webhook 地址不能含用户名或密码。")
    return url, host.lower()


def secret_check(secret: str) -> str:
    secret = (secret or "").strip()
    if not secret:
        raise DomainError("加签密钥不能为空。")
    if len(secret) > MAX_SECRET_LENGTH or not secret.isascii() or any(ch.isspace() or not ch.isprintable() for ch in secret):
        raise DomainError("加签密钥应为不含空白的 ASCII 字符串（最多 200 个字符）。")
    return secret


def _unit(code: str) -> Unit:
    code = (code or "").strip()
    unit = Unit.objects.filter(code=code).first() or Unit.objects.filter(code=code.upper()).first()
    if unit is None:
        raise NotFound(f"单位代码不存在：{code}")
    return unit


@dataclass(frozen=True)
class UnitRobots:
    """What may be shown of a unit's robots: hosts only."""

    unit: Unit
    wecom: str | None
    dingtalk: str | None
    dingtalk_signed: bool

    def as_dict(self) -> dict[str, object]:
        return {"unit": self.unit.code, "unit_name": self.unit.name, "wecom": self.wecom, "dingtalk": self.dingtalk,
                "dingtalk_signed": self.dingtalk_signed}


def unit_robots(*, unit: Unit) -> UnitRobots:
    rows = {row.channel: row for row in UnitChannel.objects.filter(unit=unit)}
    wecom, dingtalk = rows.get(Channel.WECOM), rows.get(Channel.DINGTALK)
    return UnitRobots(unit, wecom.host if wecom else None, dingtalk.host if dingtalk else None,
                      bool(dingtalk and dingtalk.signed))


def unit_channel_set(*, unit_code: str, channel: str, url: str, secret: str | None = None) -> UnitRobots:
    """Set the unit's robot of this channel (replacing the one it had). A secret is for DingTalk."""
    unit = _unit(unit_code)
    unit_channel_save(unit=unit, channel=channel, url=url, secret=secret or None, clear_secret=True)
    return unit_robots(unit=unit)


def unit_channel_save(
    *, unit: Unit, channel: str, url: str | None, secret: str | None = None, clear_secret: bool = False
) -> UnitChannel:
    """Create or change the unit's robot of ``channel``. ``url`` None keeps the stored one (the
    admin's form, where the URL is never shown back); ``secret`` None keeps the stored secret
    unless ``clear_secret``."""
    if channel not in ROBOTS:
        raise DomainError(f"渠道应为 {' / '.join(ROBOTS)} 之一，而不是“{channel}”。")
    if secret and channel != Channel.DINGTALK:
        raise DomainError("只有钉钉机器人使用加签密钥。")
    with transaction.atomic():
        row = UnitChannel.objects.select_for_update().filter(unit=unit, channel=channel).first()
        if row is None:
            if not url:
                raise DomainError("Webhook 地址不能为空。")
            row = UnitChannel(unit=unit, channel=channel)
        if url is not None:
            url, row.host = webhook_check(url)
            row.url_cipher = idnumbers.encrypt(url)
        if clear_secret or channel != Channel.DINGTALK:
            row.secret_cipher = ""
        if secret:
            row.secret_cipher = idnumbers.encrypt(secret_check(secret))
        row.updated_at = timezone.now()
        row.save()
    return row


def unit_channel_clear(*, unit_code: str, channel: str | None = None) -> UnitRobots:
    """Remove the unit's robots (or the one of ``channel``)."""
    unit = _unit(unit_code)
    rows = UnitChannel.objects.filter(unit=unit)
    if channel is not None:
        rows = rows.filter(channel=channel)
    rows.delete()
    return unit_robots(unit=unit)


def unit_channel_credentials(row: UnitChannel) -> tuple[str, str]:
    """The robot's URL and secret in the clear, for the sender only."""
    return idnumbers.decrypt(row.url_cipher), idnumbers.decrypt(row.secret_cipher) if row.secret_cipher else ""
