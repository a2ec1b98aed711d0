"""The one writer of the audit trail."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Any

from config.errors import DomainError
from config.text import refuse_control_chars

from .models import AuditEvent

# 15 digits in a row: an old 15-digit ID number, or the body of an 18-digit one (17 digits and
# a digit or X), looked for after NFKC so full-width digits count too
_ID_NUMBER_RUN = re.compile(r"\d{15}", re.ASCII)
ID_NUMBER_IN_REASON = "原因中不能包含身份证号"


def audit_text_check(text: str) -> None:
    """Free text bound for the audit table: no ID number in it (the table must not become a
    copy of what it guards), no control characters. Raises DomainError (a 400)."""
    if not text:
        return
    if _ID_NUMBER_RUN.search(unicodedata.normalize("NFKC", text)):
        raise DomainError(ID_NUMBER_IN_REASON, code="invalid")
    refuse_control_chars(text, label="原因", multiline=True)


def audit_record(
    *, user: Any, action: str, target: str, reason: str = "", rows: int = 0, address: str | None = None,
    username: str = "",
) -> AuditEvent:
    """Write one audit record. Call it in the same request that shows or exports the data.
    ``username`` names who acted when there is no user (the command line: the system account).
    A reason holding an ID number (or a control character) is refused: nothing is written."""
    audit_text_check(reason)
    try:
        address = str(ipaddress.ip_address((address or "").strip())) if address else None
    except ValueError:
        address = None  # a proxy header that is not an address is not stored
    return AuditEvent.objects.create(
        user=user if getattr(user, "pk", None) else None,
        username=user.get_username() if getattr(user, "pk", None) else username[:150],
        action=action,
        target=target[:255],
        reason=reason,
        rows=rows,
        address=address,
    )
