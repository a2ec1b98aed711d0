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
from sheets.reader import normalise_text

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
# a name with these last four shared by several people: the 工号 is needed
AMBIGUOUS = "ambiguous"

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
    value = normalise_text(value or "").upper()
    return value if _LAST4.match(value) else None


def clean_who(value: str) -> str:
    """A typed 工号 or name: full-width letters and digits made half-width, spaces dropped."""
    return re.sub(r"\s+", "", normalise_text(value or ""))[:100]


def _who_matches(who: str, last4: str | None) -> list[Staff]:
    # by 工号 first; a name is tried only when no active 工号 is typed so
    by_staff_no = list(
        Staff.objects.filter(staff_no=who, is_active=True).only("id", "name", "unit_id", "id_number_masked")[:1]
    )
    candidates = by_staff_no or list(
        Staff.objects.filter(name=who, is_active=True).only("id", "name", "unit_id", "id_number_masked")[:50]
    )
    given = (last4 or "").encode()
    return [s for s in candidates if hmac.compare_digest(s.id_number_masked[-4:].upper().encode(), given)]


def attendance_self_sign_in(
    *, event: TrainingEvent, who: str, id_last4: str, now: dt.datetime | None = None
) -> SelfSignIn:
    """A staff member signs in on their phone with their 工号, or their name, and the last
    four characters of their ID number (compared with the stored masked form; nothing is
    decrypted).

    Outside the sign-in window: ``closed``. Wrong or unknown details: ``refused``, the same
    for both. A name and last four shared by several people: ``ambiguous`` (the 工号 is
    needed). Already present or late: ``already``, nothing changes. A person recorded as
    excused or absent who turns up and signs in becomes present."""
    now = now or timezone.now()
    if not event.signin_is_open(now):
        return SelfSignIn(CLOSED)
    last4 = clean_last4(id_last4)
    who = clean_who(who)
    matches = _who_matches(who, last4) if who and last4 else []
    if len(matches) > 1:
        return SelfSignIn(AMBIGUOUS)
    if not matches:
        return SelfSignIn(REFUSED)
    staff = matches[0]
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
