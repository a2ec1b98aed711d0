"""Failed-attempt counters for the QR sign-in, kept in Django's cache (Redis in production).

A counter starts at the first failure and lives for the window; once it reaches the limit
the key is blocked until the window ends. Keys are hashed, so neither an address nor a typed
工号 is stored in the cache in clear.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

PREFIX = "training:signin:fail:"


@dataclass(frozen=True)
class Limits:
    # failures allowed from one client (address) in the window; a venue's Wi-Fi may put
    # many phones behind one address, so this counts failures only, never sign-ins
    per_client: int
    # failures allowed against one typed 工号 of one event, from anywhere: slows guessing
    # somebody's last four characters from many addresses
    per_staff_no: int
    window_seconds: int


def limits() -> Limits:
    return Limits(
        per_client=int(getattr(settings, "TRAINING_SIGNIN_MAX_FAILURES", 10)),
        per_staff_no=int(getattr(settings, "TRAINING_SIGNIN_MAX_FAILURES_PER_STAFF_NO", 5)),
        window_seconds=int(getattr(settings, "TRAINING_SIGNIN_FAILURE_WINDOW", 600)),
    )


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def client_key(request: HttpRequest) -> str:
    """The client's address. Behind a reverse proxy set TRAINING_SIGNIN_CLIENT_IP_HEADER
    (for example ``HTTP_X_REAL_IP``) to the header the proxy sets; never a header a client
    can forge past the proxy."""
    header = getattr(settings, "TRAINING_SIGNIN_CLIENT_IP_HEADER", "")
    address = request.META.get(header, "") if header else ""
    address = address.split(",")[0].strip() or request.META.get("REMOTE_ADDR", "")
    return PREFIX + "client:" + _digest(address)


def staff_no_key(*, event_id: int, staff_no: str) -> str:
    return PREFIX + "staff:" + _digest(event_id, staff_no.strip().upper())


def is_blocked(*, client: str, staff_no: str | None = None) -> bool:
    current = limits()
    counts = cache.get_many([k for k in (client, staff_no) if k])
    if counts.get(client, 0) >= current.per_client:
        return True
    return bool(staff_no) and counts.get(staff_no, 0) >= current.per_staff_no


def record_failure(*keys: str) -> None:
    window = limits().window_seconds
    for key in keys:
        if cache.add(key, 1, timeout=window):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window)
