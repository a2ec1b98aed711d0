"""The training app's own capabilities, given to roles through the one scoping helper."""

from __future__ import annotations

from access import scoping
from access.models import Role

# the people below their required hours, and its downloads (names with 工号; a liaison: their subtree)
HOURS_BELOW_READ = "training.hours_below"
# the yearly hours targets per 人员类别
TARGETS_WRITE = "training.targets_write"


def grant_training_capabilities() -> None:
    scoping.grant(HOURS_BELOW_READ, Role.LEGAL_OFFICE, Role.LIAISON)
    scoping.grant(TARGETS_WRITE, Role.LEGAL_OFFICE)
