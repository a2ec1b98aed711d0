"""Sending one message over one channel. Network only: no database, so that the sender can
run these in threads. Errors come back as ``ChannelError`` with a Chinese message that never
carries the webhook URL, its token or the signing secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from .models import Channel


class ChannelError(Exception):
    """The channel refused the message, answered an error, or timed out."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Target:
    """Where one message goes, resolved just before it is sent. ``repr`` hides the credentials."""

    channel: str
    address: str = ""  # email
    url: str = ""  # robot webhook
    secret: str = ""  # DingTalk signing secret

    def __repr__(self) -> str:
        return f"Target({self.channel})"


def dingtalk_sign(*, secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: the URL-encoded base64 of HMAC-SHA256(secret, "<timestamp>\\n<secret>")."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def dingtalk_signed_url(*, url: str, secret: str, timestamp_ms: int | None = None) -> str:
    if not secret:
        return url
    timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    joiner = "&" if urllib.parse.urlsplit(url).query else ("" if url.endswith("?") else "?")
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(secret=secret, timestamp_ms=timestamp_ms)}"


def _post_json(url: str, payload: dict, *, timeout: float) -> None:
    """POST the payload; accepted only on HTTP 200 with JSON ``errcode`` 0 (both robots)."""
    data = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http/https checked on save)
            status = response.status
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        # str(exc) names the URL in some versions: keep to the status
        raise ChannelError(f"HTTP {exc.code}") from None
    except TimeoutError:
        raise ChannelError(f"超时（{timeout:g} 秒内无应答）") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise ChannelError(f"超时（{timeout:g} 秒内无应答）") from None
        raise ChannelError(f"连接失败：{_reason(exc.reason)}") from None
    except (OSError, ValueError) as exc:
        raise ChannelError(f"连接失败：{_reason(exc)}") from None
    if status != 200:
        raise ChannelError(f"HTTP {status}")
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ChannelError("应答不是 JSON") from None
    if not isinstance(answer, dict) or "errcode" not in answer:
        raise ChannelError("应答中没有 errcode")
    if answer["errcode"] != 0:
        message = str(answer.get("errmsg", ""))[:200]
        raise ChannelError(f"errcode {answer['errcode']}：{message}" if message else f"errcode {answer['errcode']}")


def _reason(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return type(reason).__name__ if not str(reason) else str(reason)[:200]


def send_wecom(*, url: str, content: str, timeout: float) -> None:
    _post_json(url, {"msgtype": "markdown", "markdown": {"content": content}}, timeout=timeout)


def send_dingtalk(*, url: str, secret: str, title: str, text: str, timeout: float) -> None:
    _post_json(dingtalk_signed_url(url=url, secret=secret), {"msgtype": "markdown", "markdown": {"title": title, "text": text}},
               timeout=timeout)


def send_email(*, address: str, subject: str, body: str, timeout: float) -> None:
    if settings.PRODUCTION and not settings.EMAIL_HOST:
        raise ChannelError("未配置邮件服务器（EMAIL_HOST），邮件未发送")
    try:
        connection = get_connection(timeout=settings.EMAIL_TIMEOUT or timeout)
        sent = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[address],
                            connection=connection).send()
    except TimeoutError:
        raise ChannelError(f"超时（{settings.EMAIL_TIMEOUT or timeout:g} 秒内无应答）") from None
    except Exception as exc:  # smtplib's errors and OSError: the server refused or is unreachable
        raise ChannelError(f"邮件发送失败：{_smtp_reason(exc)}") from None
    if sent != 1:
        raise ChannelError("邮件发送失败：服务器未接收")


def _smtp_reason(exc: Exception) -> str:
    code = getattr(exc, "smtp_code", None)
    if code is not None:
        text = getattr(exc, "smtp_error", b"")
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return f"SMTP {code} {text}"[:200]
    return _reason(exc)


def deliver(*, target: Target, title: str, body: str) -> None:
    """Send one message; returns when the channel accepted it, raises ChannelError otherwise."""
    timeout = float(settings.REMINDER_TIMEOUT_SECONDS)
    if target.channel == Channel.EMAIL:
        send_email(address=target.address, subject=title, body=body, timeout=timeout)
    elif target.channel == Channel.WECOM:
        send_wecom(url=target.url, content=body, timeout=timeout)
    elif target.channel == Channel.DINGTALK:
        send_dingtalk(url=target.url, secret=target.secret, title=title, text=body, timeout=timeout)
    else:
        raise ChannelError(f"未知渠道：{target.channel}")
