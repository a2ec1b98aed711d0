"""QR self sign-in: a person signs themselves in at an event's token page."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from roster.models import Staff

from .events import training_event_changed
from .models import (
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    TrainingEvent,
)
from .selectors import staff_units_on

logger = logging.getLogger(__name__)


SIGNED_IN = "signed_in"
ALREADY = "already"
REFUSED = "refused"
CLOSED = "closed"

_LAST4 = re.compile(r"^[0-9X]{4}$")


@dataclass(frozen=True)
class SelfSignIn:
    outcome: str
    signed_in_at: dt.datetime | None = None
    # the person's name with the given name masked ("张*"), to confirm who signed in
    display_name: str = ""


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def clean_last4(value: str) -> str | None:
    value = (value or "").strip().upper().replace("x", "X")
    return value if _LAST4.match(value) else None


def attendance_self_sign_in(
    *, event: TrainingEvent, staff_no: str, id_last4: str, now: dt.datetime | None = None
) -> SelfSignIn:
    """A staff member signs in on their phone with their 工号 and the last four characters
    of their ID number (compared with the stored masked form; nothing is decrypted).

    Outside the sign-in window: ``closed``. Wrong or unknown details: ``refused``, the same
    for both. Already present or late: ``already``, nothing changes. A person recorded as
    excused or absent who turns up and signs in becomes present."""
    now = now or timezone.now()
    if not event.signin_is_open(now):
        return SelfSignIn(CLOSED)
    last4 = clean_last4(id_last4)
    staff = (
        Staff.objects.filter(staff_no=(staff_no or "").strip(), is_active=True)
        .only("id", "name", "unit_id", "id_number_masked")
        .first()
    )
    expected = staff.id_number_masked[-4:].upper() if staff else "----"
    if not hmac.compare_digest(expected.encode(), (last4 or "").encode()) or staff is None:
        return SelfSignIn(REFUSED)
    with transaction.atomic():
        TrainingEvent.objects.select_for_update().filter(pk=event.pk).first()
        current = Attendance.objects.filter(event=event, staff=staff).first()
        if current is not None and current.status in (AttendanceStatus.PRESENT, AttendanceStatus.LATE):
            return SelfSignIn(ALREADY, current.signed_in_at, mask_name(staff.name))
        if current is None:
            unit_id = staff_units_on(staff=[(staff.pk, staff.unit_id)], day=event.date)[staff.pk]
            Attendance.objects.create(
                event=event, staff=staff, unit_id=unit_id, status=AttendanceStatus.PRESENT, signed_in_at=now,
                source=AttendanceSource.QR, created_at=now,
            )
        else:
            Attendance.objects.filter(pk=current.pk).update(
                status=AttendanceStatus.PRESENT, signed_in_at=now, source=AttendanceSource.QR
            )
        training_event_changed(event=event)
    return SelfSignIn(SIGNED_IN, now, mask_name(staff.name))
