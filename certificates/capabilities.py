"""The certificates' capabilities, given to roles through the one scoping helper."""

from __future__ import annotations

from access import scoping
from access.models import Role

CERTIFICATES_READ = "certificates.read"  # the register, its lists and figures (a liaison: their subtree)
CERTIFICATES_WRITE = "certificates.write"  # import the register, renew certificates by an exam


def grant_certificate_capabilities() -> None:
    scoping.grant(CERTIFICATES_READ, Role.LEGAL_OFFICE, Role.LIAISON)
    scoping.grant(CERTIFICATES_WRITE, Role.LEGAL_OFFICE)
