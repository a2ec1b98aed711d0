"""Reads of the register: the list with each certificate's state on a date, the figures
rolled up through the unit tree, and the reconciliation with the roster's 执法证号 column.
Every state comes from ``certificates.state``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from roster.models import Staff, Unit

from .models import Certificate, CertificateKind, CertificateRenewal, CertificateStatus
from .state import LEFT, STATES, left_q, state_q, with_state

LIST_KEYS = ("number", "kind", "staff_no", "name", "unit_code", "unit_name", "issued_on", "expires_on", "state",
             "holder_left", "days_left")
LIST_LABELS = ("证件号", "证件类型", "工号", "姓名", "单位代码", "单位名称", "发证日期", "有效期至", "状态",
               "持证人已离册", "剩余天数")
STAT_KEYS = ("holders", *STATES, LEFT)
STATE_CHOICES = (*STATES, LEFT)
# a holder is a person, active on the roster, with a certificate that is not revoked or surrendered
HOLDING = ~Q(status__in=[CertificateStatus.REVOKED, CertificateStatus.SURRENDERED])


def certificates_on(
    *, on: dt.date, unit: Unit | None = None, state: str | None = None, kind: str | None = None,
    base: QuerySet[Certificate] | None = None,
) -> QuerySet[Certificate]:
    """The certificates with ``state`` and ``holder_left`` on ``on``, sorted by unit, then
    expiry. ``base`` is the caller's scoped queryset; ``unit`` a subtree (the holder's unit)."""
    qs = Certificate.objects.all() if base is None else base
    qs = qs.select_related("staff", "staff__unit")
    if unit is not None:
        qs = qs.filter(staff__unit__path__startswith=unit.path)
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state_q(state, on))
    return with_state(qs, on).order_by("staff__unit__path", "expires_on", "number")


def certificate_entry(cert: Certificate, *, on: dt.date) -> dict[str, Any]:
    unit = cert.staff.unit
    return {
        "number": cert.number, "kind": cert.kind, "staff_no": cert.staff.staff_no, "name": cert.staff.name,
        "unit_code": unit.code, "unit_name": unit.name, "issued_on": cert.issued_on.isoformat(),
        "expires_on": cert.expires_on.isoformat(), "state": cert.state, "holder_left": bool(cert.holder_left),
        "days_left": (cert.expires_on - on).days,
    }


def certificate_entries(qs: QuerySet[Certificate], *, on: dt.date) -> list[dict[str, Any]]:
    return [certificate_entry(cert, on=on) for cert in qs]


def _aggregates(on: dt.date) -> dict[str, Any]:
    counts: dict[str, Any] = {
        "holders": Count("staff_id", distinct=True, filter=HOLDING & Q(staff__is_active=True)),
    }
    counts.update({state: Count("pk", filter=state_q(state, on)) for state in STATES})
    counts[LEFT] = Count("pk", filter=left_q())
    return counts


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def certificate_stats(
    *, on: dt.date, unit: Unit | None = None, base: QuerySet[Certificate] | None = None,
    units: QuerySet[Unit] | None = None,
) -> dict[str, Any]:
    """``{on, holders, valid, due, expired, suspended, revoked, surrendered, left, by_unit}``:
    the totals of the subtree (or of ``base``, the caller's scope), and one row per unit with
    its whole subtree's counts. Two queries, whatever the number of units."""
    certs = Certificate.objects.all() if base is None else base
    units_qs = Unit.objects.all() if units is None else units
    if unit is not None:
        certs = certs.filter(staff__unit__path__startswith=unit.path)
        units_qs = units_qs.filter(path__startswith=unit.path)
    aggregates = _aggregates(on)
    totals = {key: value or 0 for key, value in certs.order_by().aggregate(**aggregates).items()}
    per_unit = list(certs.order_by().values("staff__unit_id", "staff__unit__path").annotate(**aggregates))
    rows = list(units_qs.order_by().values("id", "code", "name", "path", "sort_order", "is_active"))
    by_id = {u["id"]: u for u in rows}
    rolled: dict[int, dict[str, int]] = {u["id"]: dict.fromkeys(STAT_KEYS, 0) for u in rows}
    populated: set[int] = set()
    for entry in per_unit:
        for target in _path_ids(entry["staff__unit__path"]):
            if target in rolled:
                populated.add(target)
                for key in STAT_KEYS:
                    # a person sits in one unit, so people add up through the tree like certificates
                    rolled[target][key] += entry[key] or 0

    def order(u: dict[str, Any]) -> tuple:
        return tuple((by_id[i]["sort_order"], by_id[i]["code"]) for i in _path_ids(u["path"]) if i in by_id)

    by_unit = [
        {"unit_code": u["code"], "unit_name": u["name"], **rolled[u["id"]]}
        for u in sorted(rows, key=order) if u["is_active"] or u["id"] in populated
    ]
    return {"on": on.isoformat(), **{key: totals[key] for key in STAT_KEYS}, "by_unit": by_unit}


def certificates_reconcile(*, unit: Unit | None = None) -> dict[str, Any]:
    """Both ways between the roster's 执法证号 column and the register:

    - ``roster_without_certificate``: active staff whose roster 执法证号 is no certificate in
      the register;
    - ``register_not_in_roster``: the register's enforcement certificates (not revoked or
      surrendered) whose holder's roster 执法证号 is empty (``roster_empty``) or another number
      (``roster_different``)."""
    staff = Staff.objects.filter(is_active=True).exclude(enforcement_cert="").select_related("unit")
    certs = Certificate.objects.filter(kind=CertificateKind.ENFORCEMENT).filter(HOLDING).select_related("staff__unit")
    if unit is not None:
        staff = staff.filter(unit__path__startswith=unit.path)
        certs = certs.filter(staff__unit__path__startswith=unit.path)

    missing = staff.filter(~Exists(Certificate.objects.filter(number=OuterRef("enforcement_cert")))).order_by(
        "unit__path", "staff_no")
    mismatched = certs.exclude(staff__enforcement_cert=F("number")).order_by("staff__unit__path", "number")
    roster_side = [
        {"staff_no": s.staff_no, "name": s.name, "unit_code": s.unit.code, "unit_name": s.unit.name,
         "roster_number": s.enforcement_cert}
        for s in missing
    ]
    register_side = [
        {"number": c.number, "staff_no": c.staff.staff_no, "name": c.staff.name, "unit_code": c.staff.unit.code,
         "unit_name": c.staff.unit.name, "roster_number": c.staff.enforcement_cert,
         "problem": "roster_empty" if not c.staff.enforcement_cert else "roster_different"}
        for c in mismatched
    ]
    return {
        "roster_without_certificate": roster_side,
        "register_not_in_roster": register_side,
        "counts": {"roster_without_certificate": len(roster_side), "register_not_in_roster": len(register_side)},
    }


def certificates_renewed_in(*, year: int, unit: Unit | None = None) -> int:
    """Certificates renewed by the renewal exams of ``year``."""
    qs = CertificateRenewal.objects.filter(exam__year=year)
    if unit is not None:
        qs = qs.filter(certificate__staff__unit__path__startswith=unit.path)
    return qs.values("certificate_id").distinct().count()


def certificates_year_figures(*, year: int, today: dt.date, unit: Unit | None = None) -> dict[str, Any]:
    """The annual report's ``{holders, renewed, expired, due}``: the register as of 31
    December of ``year`` (or ``today``, for the current year), and the certificates the year's
    renewal exams renewed."""
    as_of = min(dt.date(year, 12, 31), today)
    certs = Certificate.objects.all()
    if unit is not None:
        certs = certs.filter(staff__unit__path__startswith=unit.path)
    aggregates = _aggregates(as_of)
    totals = certs.order_by().aggregate(holders=aggregates["holders"], expired=aggregates["expired"],
                                        due=aggregates["due"])
    return {
        "holders": totals["holders"] or 0,
        "renewed": certificates_renewed_in(year=year, unit=unit),
        "expired": totals["expired"] or 0,
        "due": totals["due"] or 0,
    }
