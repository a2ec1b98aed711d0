"""What the pages need beyond the API's capabilities, given to roles through the one scoping
helper (``api.scoping.grant``). Pages ask ``scope.can`` / ``scope.require`` for these and
narrow every queryset with ``scope.narrow`` / ``scope.units`` / ``scope.imports``; nothing
else here decides who sees what."""

from __future__ import annotations

from api.models import Role
from api.scoping import grant

STATS_READ = "stats.read"  # the unit dashboard's figures (a liaison: their subtree)
EXAMS_READ = "exams.read"  # the exam list and an exam's figures
EXAMS_WRITE = "exams.write"  # create exams, import results and exemptions
NOT_SAT_READ = "exams.not_sat"  # the not-sat list and its download (names and phones)
EVENTS_READ = "events.read"  # training events and their attendance
EVENTS_WRITE = "events.write"  # create events, import sign-in sheets (a liaison: events their subtree organises)
REPORTS_READ = "reports.read"  # the annual report and its downloads

PAGE_CAPABILITIES: dict[str, tuple[str, ...]] = {
    STATS_READ: (Role.LEGAL_OFFICE, Role.LIAISON, Role.VIEWER),
    EXAMS_READ: (Role.LEGAL_OFFICE, Role.LIAISON, Role.VIEWER),
    EXAMS_WRITE: (Role.LEGAL_OFFICE,),
    NOT_SAT_READ: (Role.LEGAL_OFFICE, Role.LIAISON),
    EVENTS_READ: (Role.LEGAL_OFFICE, Role.LIAISON),
    EVENTS_WRITE: (Role.LEGAL_OFFICE, Role.LIAISON),
    REPORTS_READ: (Role.LEGAL_OFFICE, Role.VIEWER),
}


def grant_page_capabilities() -> None:
    for capability, roles in PAGE_CAPABILITIES.items():
        grant(capability, *roles)
