"""The state on a date, at every boundary, the same in Python and in SQL; holder_left apart."""

from __future__ import annotations

import datetime as dt

import pytest

from certificates.models import Certificate
from certificates.selectors import certificates_on
from certificates.state import certificate_state, holder_left
from roster.models import Staff
from tests.certificates.conftest import add_cert

EXPIRES = dt.date(2026, 6, 30)
DAY = dt.timedelta(days=1)


def _sql_state(on: dt.date) -> str:
    return certificates_on(on=on).get().state


@pytest.mark.parametrize(("on", "state"), [
    (EXPIRES - dt.timedelta(days=91), "valid"),      # the day before the window opens
    (EXPIRES - dt.timedelta(days=90), "due"),        # the first day of the window
    (EXPIRES - dt.timedelta(days=89), "due"),        # the day after it opened
    (EXPIRES - DAY, "due"),
    (EXPIRES, "due"),                                 # the day of expiry: still usable that day
    (EXPIRES + DAY, "expired"),                       # the day after expiry
])
def test_state_at_each_boundary(staff, on, state):
    add_cert("0201", "桂执0201", expires=EXPIRES)
    assert certificate_state(status="active", expires_on=EXPIRES, on=on) == state
    assert _sql_state(on) == state


def test_the_window_follows_the_setting(staff, settings):
    settings.CERT_RENEWAL_WINDOW_DAYS = 30
    add_cert("0201", "桂执0201", expires=EXPIRES)
    assert _sql_state(EXPIRES - dt.timedelta(days=31)) == "valid"
    assert _sql_state(EXPIRES - dt.timedelta(days=30)) == "due"


@pytest.mark.parametrize("status", ["suspended", "revoked", "surrendered"])
def test_a_stored_status_wins_over_dates(staff, status):
    add_cert("0201", "桂执0201", expires=EXPIRES, status=status)
    for on in (EXPIRES - dt.timedelta(days=200), EXPIRES, EXPIRES + DAY):
        assert certificate_state(status=status, expires_on=EXPIRES, on=on) == status
        assert _sql_state(on) == status


def test_a_leavers_certificate_is_listed_as_left_until_surrendered(staff):
    add_cert("0201", "桂执0201", expires=EXPIRES)
    add_cert("0202", "桂执0202", expires=EXPIRES, status="surrendered")
    Staff.objects.filter(staff_no__in=["0201", "0202"]).update(is_active=False, left_on=dt.date(2026, 1, 1))
    on = dt.date(2026, 1, 2)
    left = list(certificates_on(on=on, state="left"))
    assert [c.number for c in left] == ["桂执0201"]
    assert left[0].holder_left and left[0].state == "valid"
    assert holder_left(status="active", holder_active=False)
    assert not holder_left(status="surrendered", holder_active=False)
    assert not holder_left(status="active", holder_active=True)
    assert Certificate.objects.count() == 2
