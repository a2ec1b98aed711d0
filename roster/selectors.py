"""Reads for units and staff."""

from __future__ import annotations

import re

from django.db.models import F, Q, QuerySet

from config.errors import DomainError
from sheets.reader import normalise_text

from .models import RosterSync, Staff, StaffChange, SyncPreviewChange, Unit


def roster_summary() -> dict[str, int]:
    counts = {"active": 0, "inactive": 0}
    for is_active, n in _active_counts():
        counts["active" if is_active else "inactive"] += n
    counts["units"] = Unit.objects.filter(is_active=True).count()
    return counts


def _active_counts() -> list[tuple[bool, int]]:
    from django.db.models import Count

    return list(Staff.objects.order_by().values_list("is_active").annotate(n=Count("id")).values_list("is_active", "n"))


def unit_by_code(code: str) -> Unit | None:
    return Unit.objects.filter(code=code).first()


def unit_from_option(code: str | None) -> Unit | None:
    """A command's ``--unit CODE``: None when not given, the unit (code as typed, or upper-cased)
    otherwise; an unknown code is refused rather than read as "everyone"."""
    if code is None:
        return None
    unit = unit_by_code(code.strip()) or unit_by_code(code.strip().upper())
    if unit is None:
        raise DomainError(f"单位代码不存在：{code}")
    return unit


def unit_subtree(unit: Unit) -> QuerySet[Unit]:
    return Unit.objects.filter(path__startswith=unit.path)


def staff_list(*, unit: Unit | None = None, active: bool | None = None) -> QuerySet[Staff]:
    qs = Staff.objects.select_related("unit")
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


def staff_search(qs: QuerySet[Staff], *, text: str, by_phone: bool) -> QuerySet[Staff]:
    """Staff whose 工号 starts with ``text``, whose name holds it, or (``by_phone``, for callers
    who see phones) whose phone ends with at least its last 4 digits. Full-width characters
    and separators in a typed phone are ignored."""
    text = normalise_text(text)
    if not text:
        return qs.none()
    found = Q(staff_no__istartswith=text) | Q(name__icontains=text)
    digits = re.sub(r"[\s\-]", "", text)
    if by_phone and digits.isdigit() and len(digits) >= 4:
        found |= Q(phone__endswith=digits)
    return qs.filter(found).order_by("-is_active", "staff_no")


def staff_history(staff: Staff) -> QuerySet[StaffChange]:
    return StaffChange.objects.filter(staff=staff).select_related("sync").order_by("-changed_at", "-id")


def roster_syncs() -> QuerySet[RosterSync]:
    return RosterSync.objects.select_related("started_by")


def sync_preview_changes(
    *, sync: RosterSync, kind: str | None = None, unit: Unit | None = None
) -> QuerySet[SyncPreviewChange]:
    """Every change a dry run would make, in file order (the deactivated, who have no row, last),
    optionally of one kind or within one unit's subtree."""
    changes = SyncPreviewChange.objects.filter(sync=sync).select_related("unit")
    if kind:
        changes = changes.filter(kind=kind)
    if unit is not None:
        changes = changes.filter(unit__path__startswith=unit.path)
    return changes.order_by(F("row_no").asc(nulls_last=True), "staff_no", "id")


def preview_change_dict(change: SyncPreviewChange) -> dict:
    return {
        "row": change.row_no,
        "staff_no": change.staff_no,
        "name": change.name,
        "unit_code": change.unit.code if change.unit else None,
        "kind": change.kind,
        "fields": change.fields,
    }
