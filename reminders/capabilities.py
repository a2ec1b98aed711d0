"""The reminders' capabilities, given to roles through the one scoping helper."""

from __future__ import annotations

from access import scoping
from access.models import Role

REMINDERS_READ = "reminders.read"  # the list of messages (a liaison: their subtree's)
REMINDERS_SEND = "reminders.send"  # "send now" for an exam
REMINDERS_CHANNELS = "reminders.channels"  # set the units' group robots


def grant_reminder_capabilities() -> None:
    scoping.grant(REMINDERS_READ, Role.LEGAL_OFFICE, Role.LIAISON)
    scoping.grant(REMINDERS_SEND, Role.LEGAL_OFFICE)
    scoping.grant(REMINDERS_CHANNELS, Role.LEGAL_OFFICE)
