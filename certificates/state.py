"""THE one place that computes a certificate's state on a date D.

- ``suspended``, ``revoked`` or ``surrendered`` as stored;
- else ``expired`` when ``expires_on < D``;
- else ``due`` when ``expires_on <= D + CERT_RENEWAL_WINDOW_DAYS``;
- else ``valid``.

``holder_left`` is separate: the holder is no longer active and the certificate is not
surrendered (it must be handed in).

The same rule is given twice, as a Python function (one certificate) and as ORM expressions
(lists and figures, computed by the database); a test holds the two together.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import BooleanField, Case, CharField, ExpressionWrapper, Q, QuerySet, Value, When

from .models import CertificateStatus

VALID = "valid"
DUE = "due"
EXPIRED = "expired"
SUSPENDED = CertificateStatus.SUSPENDED.value
REVOKED = CertificateStatus.REVOKED.value
SURRENDERED = CertificateStatus.SURRENDERED.value
LEFT = "left"

STATES = (VALID, DUE, EXPIRED, SUSPENDED, REVOKED, SURRENDERED)
STATE_LABELS = {
    VALID: "有效", DUE: "待续期", EXPIRED: "已过期", SUSPENDED: "暂扣", REVOKED: "吊销", SURRENDERED: "注销",
    LEFT: "持证人已离册",
}
STORED_STATES = (SUSPENDED, REVOKED, SURRENDERED)


def window_days() -> int:
    return int(settings.CERT_RENEWAL_WINDOW_DAYS)


def window_end(on: dt.date) -> dt.date:
    """The last expiry date that is ``due`` on ``on``."""
    return on + dt.timedelta(days=window_days())


def certificate_state(*, status: str, expires_on: dt.date, on: dt.date) -> str:
    if status in STORED_STATES:
        return status
    if expires_on < on:
        return EXPIRED
    if expires_on <= window_end(on):
        return DUE
    return VALID


def holder_left(*, status: str, holder_active: bool) -> bool:
    return not holder_active and status != SURRENDERED


def state_q(state: str, on: dt.date, prefix: str = "") -> Q:
    """A Q selecting the certificates in ``state`` on ``on`` (``left``: holder_left)."""
    p = prefix
    if state in STORED_STATES:
        return Q(**{f"{p}status": state})
    active = Q(**{f"{p}status": CertificateStatus.ACTIVE})
    if state == EXPIRED:
        return active & Q(**{f"{p}expires_on__lt": on})
    if state == DUE:
        return active & Q(**{f"{p}expires_on__gte": on, f"{p}expires_on__lte": window_end(on)})
    if state == VALID:
        return active & Q(**{f"{p}expires_on__gt": window_end(on)})
    if state == LEFT:
        return left_q(prefix)
    raise ValueError(state)


def left_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}staff__is_active": False}) & ~Q(**{f"{prefix}status": SURRENDERED})


def state_expression(on: dt.date) -> Case:
    """The state on ``on`` as a SQL CASE, for ``annotate(state=...)``."""
    return Case(
        *[When(state_q(s, on), then=Value(s)) for s in (SUSPENDED, REVOKED, SURRENDERED, EXPIRED, DUE)],
        default=Value(VALID),
        output_field=CharField(),
    )


def with_state(qs: QuerySet, on: dt.date) -> QuerySet:
    return qs.annotate(
        state=state_expression(on),
        holder_left=ExpressionWrapper(left_q(), output_field=BooleanField()),
    )
