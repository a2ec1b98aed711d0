"""Rotating QR codes: the projected code carries a short code that changes every
``SIGNIN_ROTATE_SECONDS`` and is accepted for two periods, so a photo of the screen forwarded
to a chat group stops working within a minute. A phone that opened the form with a fresh code
gets a signed ticket, so a slow typist is not refused while typing."""

from __future__ import annotations

import datetime as dt
import hmac

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import TrainingEvent

_KEY_SALT = "legaltrack.training.signin-rotation"
_TICKET_SALT = "legaltrack.training.signin-form"
# periods a code is accepted for: the one it was shown in, and the next
ACCEPTED_PERIODS = 2


def rotate_seconds() -> int:
    return max(5, int(getattr(settings, "SIGNIN_ROTATE_SECONDS", 30)))


def period_of(now: dt.datetime | None = None) -> int:
    return int((now or timezone.now()).timestamp()) // rotate_seconds()


def code_for(event: TrainingEvent, period: int) -> str:
    # keyed by SECRET_KEY, not by the token in the URL: knowing the URL does not give the codes
    return salted_hmac(_KEY_SALT, f"{event.pk}:{event.signin_token}:{period}", algorithm="sha256").hexdigest()[:12]


def current_code(event: TrainingEvent, now: dt.datetime | None = None) -> str:
    return code_for(event, period_of(now))


def code_is_fresh(event: TrainingEvent, code: str, now: dt.datetime | None = None) -> bool:
    code = (code or "").strip().lower()[:32]
    current = period_of(now)
    # every candidate is compared, so the time taken does not say which period matched
    matches = [hmac.compare_digest(code_for(event, current - age), code) for age in range(ACCEPTED_PERIODS)]
    return bool(code) and any(matches)


def form_ticket(event: TrainingEvent) -> str:
    return signing.dumps(event.pk, salt=_TICKET_SALT, compress=False)


def ticket_is_valid(event: TrainingEvent, ticket: str) -> bool:
    max_age = int(getattr(settings, "SIGNIN_FORM_SECONDS", 600))
    try:
        return signing.loads(ticket or "", salt=_TICKET_SALT, max_age=max_age) == event.pk
    except signing.BadSignature:
        return False
