"""The one writer of the audit trail."""

from __future__ import annotations

import ipaddress
from typing import Any

from .models import AuditEvent


def audit_record(
    *, user: Any, action: str, target: str, reason: str = "", rows: int = 0, address: str | None = None,
    username: str = "",
) -> AuditEvent:
    """Write one audit record. Call it in the same request that shows or exports the data.
    ``username`` names who acted when there is no user (the command line: the system account)."""
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
