"""THE one place that decides what a user may see and do.

``scope_for(user)`` returns a ``Scope``. Every API view, and any server-rendered page, narrows
its querysets through it, asks it whether the caller may perform an action, resolves a
``?unit=`` code through it, and asks it how personal data is shown. Nothing else filters by
permission.

- ``hr`` and ``legal_office`` see every unit; a ``liaison`` sees the subtree of their unit;
  a ``viewer`` sees every unit but no personal data; a superuser may do everything.
- A *scoped office*: ``hr`` or ``legal_office`` given a unit (``set_role USER hr --unit CODE``,
  a city's or district's office) keeps its role's capabilities but, like a liaison, sees and
  writes only that unit's subtree: lists, figures, not-sat lists, events, its own annual
  report (``report_root``), records, certificates, reminders; its roster syncs carry the
  subtree as their root (``write_root``: a row outside it is refused, a full sync deactivates
  only inside it); the exams it creates are owned by its unit (their audience lies within).
- ``staff`` (the self scope) sees one person, the one the account is linked to, and nothing
  else: no unit, no list, no figure. It works only while that person is on the roster.
- An object outside the caller's subtree is simply not in the narrowed queryset, so it
  answers 404, never 403 with details. A missing capability (a role that may not do this
  at all, whatever the object) answers 403.

Apps added later register their capabilities with ``grant`` and narrow their querysets with
``Scope.narrow(qs, unit_field=...)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import BooleanField, Exists, ExpressionWrapper, Model, OuterRef, Q, QuerySet, Value
from django.http import Http404

from roster.models import RosterSync, Staff, Unit
from sheets.models import ImportRecord
from training.models import Attendance, Audience, TrainingEvent

from .models import SCOPED_ROLES, Role, UserRole

M = TypeVar("M", bound=Model)

# --- capabilities ----------------------------------------------------------------------
UNITS_READ = "units.read"
STAFF_READ = "staff.read"
STAFF_WRITE = "staff.write"
STAFF_REVEAL_ID_NUMBER = "staff.reveal_id_number"
ROSTER_SYNC_READ = "roster_sync.read"
ROSTER_SYNC_WRITE = "roster_sync.write"
IMPORTS_READ = "imports.read"
IMPORTS_VOID = "imports.void"  # void a results, exemptions or sign-in sheet import (legal_office)
# exams, training and reports (given to roles with ``grant`` in ApiConfig.ready; the web pages
# use the same names for the same meaning)
STATS_READ = "stats.read"  # exam figures and participation snapshots (a liaison: their subtree)
EXAMS_READ = "exams.read"  # the exam list and one exam (no personal data)
EXAMS_WRITE = "exams.write"  # create exams, import results and exemptions
NOT_SAT_READ = "exams.not_sat"  # the not-sat list and its downloads (names and phones)
EVENTS_READ = "events.read"  # training events and their attendance
EVENTS_WRITE = "events.write"  # create events, record attendance (a liaison: events their subtree organises)
REPORTS_READ = "reports.read"  # the district's annual report
REPORTS_READ_SUBTREE = "reports.read_subtree"  # the annual report of the caller's own subtree
RECORDS_READ = "records.read"  # a person's learning record (legal_office; a liaison: their subtree; staff: self)
RECORD_SELF = "records.self"  # /me/record/: the caller's own learning record (the staff role)
LEARNING_FILE_READ = "records.learning_file"  # a unit's yearly learning file (a liaison: their subtree)
SCIM_PROVISION = "scim.provision"  # /scim/v2/: read and write the roster's people by SCIM (hr, provisioner)

ROLE_CAPABILITIES: dict[str, set[str]] = {
    Role.HR: {UNITS_READ, STAFF_READ, STAFF_WRITE, STAFF_REVEAL_ID_NUMBER, ROSTER_SYNC_READ, ROSTER_SYNC_WRITE,
              IMPORTS_READ, SCIM_PROVISION},
    Role.LEGAL_OFFICE: {UNITS_READ, STAFF_READ, ROSTER_SYNC_READ, IMPORTS_READ},
    Role.LIAISON: {UNITS_READ, STAFF_READ, IMPORTS_READ},
    Role.VIEWER: {UNITS_READ},
    Role.STAFF: set(),
    # a SCIM client (HR's identity system): SCIM and nothing else, no unit, no list, no page
    Role.PROVISIONER: {SCIM_PROVISION},
}

# Roles that see personal data at all (names with ID numbers, phones). Viewers do not.
PERSONAL_DATA_ROLES = {Role.HR, Role.LEGAL_OFFICE, Role.LIAISON}
# Roles that see every phone in full. A liaison sees in full those of their own subtree.
FULL_PHONE_ROLES = {Role.HR, Role.LEGAL_OFFICE}


def grant(capability: str, *roles: str) -> None:
    """Give roles a capability; apps added later call this from ``AppConfig.ready``."""
    for role in roles:
        ROLE_CAPABILITIES.setdefault(role, set()).add(capability)


# who may do what with exams, training and reports (the roles table). hr keeps its
# roster rights only. A liaison's reads are narrowed to their subtree by the Scope methods.
DOMAIN_CAPABILITIES: dict[str, tuple[str, ...]] = {
    STATS_READ: (Role.LEGAL_OFFICE, Role.LIAISON, Role.VIEWER),
    EXAMS_READ: (Role.LEGAL_OFFICE, Role.LIAISON, Role.VIEWER),
    EXAMS_WRITE: (Role.LEGAL_OFFICE,),
    NOT_SAT_READ: (Role.LEGAL_OFFICE, Role.LIAISON),
    EVENTS_READ: (Role.LEGAL_OFFICE, Role.LIAISON),
    EVENTS_WRITE: (Role.LEGAL_OFFICE, Role.LIAISON),
    REPORTS_READ: (Role.LEGAL_OFFICE, Role.VIEWER),
    REPORTS_READ_SUBTREE: (Role.LIAISON,),
    # hr and viewers keep no training data: no records
    RECORDS_READ: (Role.LEGAL_OFFICE, Role.LIAISON, Role.STAFF),
    RECORD_SELF: (Role.STAFF,),
    LEARNING_FILE_READ: (Role.LEGAL_OFFICE, Role.LIAISON),
    IMPORTS_VOID: (Role.LEGAL_OFFICE,),
}


def grant_domain_capabilities() -> None:
    """Called from ``ApiConfig.ready`` (idempotent: capabilities are a set per role)."""
    for capability, roles in DOMAIN_CAPABILITIES.items():
        grant(capability, *roles)


class OutOfScope(Http404):
    """An object or unit the caller may not see: answered exactly like one that does not exist."""


SUPERUSER = "superuser"


# a ?unit= subtree up to this many units is filtered by its unit ids, listed: a district
SUBTREE_ID_LIST_MAX = 2000


def subtree_q(unit: Unit, *, unit_field: str = "unit") -> Q:
    """A Q keeping rows whose unit (through ``unit_field``; "" for units) lies in ``unit``'s
    subtree. A subtree of up to ``SUBTREE_ID_LIST_MAX`` units is named by its ids (one indexed
    query first), so PostgreSQL tests each row against a hashed list instead of joining the
    units and testing the path row by row: a district's staff page at a million staff went
    from 27 ms to 6 ms (measured). A larger subtree keeps the path prefix."""
    ids = list(Unit.objects.filter(path__startswith=unit.path).order_by()
               .values_list("pk", flat=True)[: SUBTREE_ID_LIST_MAX + 1])
    if len(ids) <= SUBTREE_ID_LIST_MAX:
        return Q(**{f"{unit_field}__in" if unit_field else "pk__in": ids})
    return Q(**{f"{unit_field}__path__startswith" if unit_field else "path__startswith": unit.path})


@dataclass(frozen=True)
class Scope:
    user: Any
    role: str | None  # a Role value, SUPERUSER, or None (no role: nothing is allowed)
    unit: Unit | None  # a liaison's or a scoped office's unit, the root of their subtree
    rate_limit_exempt: bool = False
    person: Staff | None = None  # the self scope's one person (the staff role)

    # --- who --------------------------------------------------------------------------
    @property
    def is_superuser(self) -> bool:
        return self.role == SUPERUSER

    @property
    def is_self(self) -> bool:
        """The self scope (the staff role): one person, no unit."""
        return self.role == Role.STAFF

    @property
    def is_provisioner(self) -> bool:
        """A SCIM client: it sees people and units only through ``scim_staff``/``scim_units``."""
        return self.role == Role.PROVISIONER

    @property
    def everywhere(self) -> bool:
        """Sees every unit (everyone with a role except a liaison, a scoped office, the self
        scope and a SCIM provisioner)."""
        return self.role is not None and self.role not in (Role.STAFF, Role.PROVISIONER) and self.unit is None

    @property
    def sees_nothing(self) -> bool:
        """No unit and no list at all (no role, the self scope, a SCIM provisioner)."""
        return self.role is None or self.is_self or self.is_provisioner

    @property
    def write_root(self) -> Unit | None:
        """The subtree the caller's writes are confined to: None (everywhere), or a scoped
        office's unit. A roster sync carries it as its root; an exam as its owner."""
        return None if self.everywhere else self.unit

    def can(self, capability: str) -> bool:
        if self.role is None:
            return False
        if self.is_superuser:
            return True
        return capability in ROLE_CAPABILITIES.get(self.role, ())

    def can_any(self, capabilities: str | Iterable[str]) -> bool:
        if isinstance(capabilities, str):
            return self.can(capabilities)
        return any(self.can(c) for c in capabilities)

    def require(self, capability: str) -> None:
        if not self.can(capability):
            raise PermissionDenied("您的角色无权进行此操作。")

    # --- where ------------------------------------------------------------------------
    def contains_path(self, path: str) -> bool:
        if self.sees_nothing:
            return False
        return self.everywhere or (self.unit is not None and path.startswith(self.unit.path))

    def contains(self, unit: Unit) -> bool:
        return self.contains_path(unit.path)

    def unit_q(self, unit_field: str = "unit") -> Q:
        """A Q that keeps rows whose ``unit_field`` lies in the caller's subtree (for
        subqueries and annotations). ``unit_field=""`` means the rows are units."""
        prefix = f"{unit_field}__" if unit_field else ""
        if self.sees_nothing:
            return Q(pk__in=[])
        if self.everywhere:
            return Q()
        return Q(**{f"{prefix}path__startswith": self.unit.path})

    def narrow(self, qs: QuerySet[M], *, unit_field: str = "unit", within: Unit | None = None) -> QuerySet[M]:
        """Keep only the rows whose unit (reached through ``unit_field``; "" for units
        themselves) lies in the caller's subtree, and within ``within`` when given (a unit
        already resolved through ``resolve_unit``)."""
        if self.sees_nothing:
            return qs.none()
        qs = qs.filter(self.unit_q(unit_field)) if not self.everywhere else qs
        if within is not None:
            qs = qs.filter(subtree_q(within, unit_field=unit_field))
        return qs

    def units(self, qs: QuerySet[Unit] | None = None) -> QuerySet[Unit]:
        return self.narrow(Unit.objects.all() if qs is None else qs, unit_field="")

    def staff(self, qs: QuerySet[Staff] | None = None, *, within: Unit | None = None) -> QuerySet[Staff]:
        if not self.can(STAFF_READ):
            return Staff.objects.none()
        base = Staff.objects.select_related("unit") if qs is None else qs
        return self.narrow(base, within=within)

    def within(self, code: str | None) -> Unit | None:
        """The subtree a list or a figure covers: the unit a ``?unit=`` names (404 when it lies
        outside the caller's subtree, as for a code that does not exist); without one, a
        liaison's own unit (their whole subtree), and None (everywhere) for the others. The self
        scope covers no unit: 404."""
        if self.is_self or self.is_provisioner:
            raise OutOfScope("单位不存在或不在您的查看范围内。")
        if code is not None:
            return self.resolve_unit(code)
        return None if self.everywhere else self.unit

    def resolve_unit(self, code: str) -> Unit:
        """The unit with this code, when the caller may see it; 404 otherwise (also for a
        code that does not exist: both look the same)."""
        code = (code or "").strip()
        unit = self.units().filter(code=code).first() if self.role is not None and "\x00" not in code else None
        if unit is None:
            raise OutOfScope("单位不存在或不在您的查看范围内。")
        return unit

    def get(self, qs: QuerySet[M], **lookup: Any) -> M:
        """One object of an already narrowed queryset, or 404."""
        try:
            return qs.get(**lookup)
        except (ObjectDoesNotExist, ValueError, TypeError):
            raise OutOfScope("对象不存在或不在您的查看范围内。")

    def report_root(self) -> Unit | None:
        """Whose annual report the caller reads: the district's (None) for the roles that read
        it, a liaison's or a scoped office's own subtree; 403 for the others."""
        if self.everywhere:
            self.require(REPORTS_READ)
            return None
        if not self.can_any((REPORTS_READ, REPORTS_READ_SUBTREE)):
            self.require(REPORTS_READ_SUBTREE)
        return self.unit

    # --- a person's learning record -----------------------------------------------------
    def record_staff(self, qs: QuerySet[Staff] | None = None) -> QuerySet[Staff]:
        """The people whose learning record the caller may read: everyone for the roles that
        see everywhere (legal_office), those whose current unit lies in a liaison's subtree,
        the person themselves for the self scope; nobody without ``RECORDS_READ``."""
        if not self.can(RECORDS_READ):
            return Staff.objects.none()
        base = Staff.objects.select_related("unit") if qs is None else qs
        if self.is_self:
            return base.filter(pk=self.person.pk) if self.person is not None else base.none()
        return self.narrow(base)

    def learning_file_unit(self, code: str) -> Unit:
        """The unit whose yearly learning file the caller asks for (``resolve_unit``); 403
        without ``LEARNING_FILE_READ``."""
        self.require(LEARNING_FILE_READ)
        return self.resolve_unit(code)

    # --- SCIM ---------------------------------------------------------------------------
    def scim_staff(self) -> QuerySet[Staff]:
        """The people SCIM serves: the whole roster for a caller with ``SCIM_PROVISION`` (hr, a
        provisioner), nobody otherwise. Those SCIM deleted (and still inactive) are not among
        them: they answer 404 (RFC 7644 §3.6)."""
        if not self.can(SCIM_PROVISION):
            return Staff.objects.none()
        return Staff.objects.select_related("unit").exclude(scim_deleted=True, is_active=False)

    def scim_units(self) -> QuerySet[Unit]:
        """The units SCIM serves as Groups: every unit for ``SCIM_PROVISION``, none otherwise."""
        if not self.can(SCIM_PROVISION):
            return Unit.objects.none()
        return Unit.objects.all()

    # --- records without a unit ---------------------------------------------------------
    def roster_syncs(self, qs: QuerySet[RosterSync] | None = None) -> QuerySet[RosterSync]:
        """Roster syncs concern the whole roster: everything for the roles that read them
        everywhere; a scoped office reads the syncs of its subtree (their root lies in it)."""
        qs = RosterSync.objects.all() if qs is None else qs
        if not self.can(ROSTER_SYNC_READ):
            return qs.none()
        return qs if self.everywhere else self.narrow(qs, unit_field="root")

    def imports(self, qs: QuerySet[ImportRecord] | None = None) -> QuerySet[ImportRecord]:
        """Import records: everything for roles that see everywhere; a liaison sees the ones
        they started; a scoped office the ones started by anyone whose role lies in its
        subtree (itself, its liaisons, the offices below it)."""
        qs = ImportRecord.objects.all() if qs is None else qs
        if not self.can(IMPORTS_READ):
            return qs.none()
        if self.everywhere:
            return qs
        if self.role == Role.LIAISON:
            return qs.filter(started_by_id=self.user.pk)
        return qs.filter(started_by__api_role__unit__path__startswith=self.unit.path)

    def imports_voidable(self, qs: QuerySet[ImportRecord] | None = None) -> QuerySet[ImportRecord]:
        """The import records the caller may void: every one for the roles with
        ``IMPORTS_VOID`` that see everywhere (the legal-affairs office); for a scoped office,
        those of its subtree (``imports``); none otherwise."""
        qs = ImportRecord.objects.all() if qs is None else qs
        if not self.can(IMPORTS_VOID):
            return qs.none()
        return qs if self.everywhere else self.imports(qs)

    def _exam_owner_q(self) -> Q:
        """Exams that concern the caller's subtree: those of everyone (no owner), those owned
        by a unit above or at its root, and those owned inside it."""
        above = [int(pk) for pk in self.unit.path.strip("/").split("/") if pk.isdigit()]
        return Q(owner__isnull=True) | Q(owner_id__in=above) | self.unit_q("owner")

    def exams(self, qs: QuerySet[M]) -> QuerySet[M]:
        """Exams carry no personal data: every exam for roles that read exams everywhere; a
        liaison and a scoped office read those that concern their subtree (``_exam_owner_q``:
        another city's own exam is not theirs); none otherwise. (Candidates are narrowed by unit.)"""
        if not self.can(EXAMS_READ):
            return qs.none()
        return qs if self.everywhere else qs.filter(self._exam_owner_q())

    def exams_managed(self, qs: QuerySet[M]) -> QuerySet[M]:
        """Exams the caller may change (correct, delete, import into, remind about): every one
        for the roles with ``EXAMS_WRITE`` that work everywhere; for a scoped office, the exams
        owned by its subtree (those it created); none otherwise."""
        if not self.can(EXAMS_WRITE):
            return qs.none()
        return qs if self.everywhere else self.narrow(qs, unit_field="owner")

    def events(self, qs: QuerySet[M]) -> QuerySet[M]:
        """Training events the caller may read: everything for roles that see everywhere. A
        liaison reads the events that concern their subtree: organised by one of its units,
        meant for the whole district or for one of its units, or attended by one of its people
        (their attendance lists then show only their own people)."""
        if not self.can(EVENTS_READ):
            return qs.none()
        if self.everywhere:
            return qs
        invited = TrainingEvent.audience_units.through.objects.filter(
            trainingevent_id=OuterRef("pk"), unit__path__startswith=self.unit.path
        )
        attended = Attendance.objects.filter(event_id=OuterRef("pk"), unit__path__startswith=self.unit.path)
        return qs.filter(
            self.unit_q("organiser")
            | Q(audience__in=[Audience.DISTRICT, Audience.UNIT_HEADS])
            | Q(Exists(invited))
            | Q(Exists(attended))
        )

    def exam_jobs(self, qs: QuerySet[M]) -> QuerySet[M]:
        """Jobs about one exam (a "send now" of reminders): every one for the roles that work
        everywhere; for a scoped office, those about the exams it manages (``exams_managed``)."""
        if self.role is None or self.is_self:
            return qs.none()
        return qs if self.everywhere else self.narrow(qs, unit_field="exam__owner")

    @property
    def organiser_required(self) -> bool:
        """A liaison's new event names an organiser of their subtree (else they would not see
        it afterwards); the others may leave it empty (the district's own event)."""
        return not self.everywhere

    def events_managed(self, qs: QuerySet[M]) -> QuerySet[M]:
        """Training events the caller may run (record attendance, upload sign-in sheets, show
        the QR code): everything for the legal-affairs office; for a liaison, the events
        organised by units of their subtree (not those without an organiser)."""
        if not self.can(EVENTS_WRITE):
            return qs.none()
        return self.narrow(qs, unit_field="organiser")

    def events_with_managed(self, qs: QuerySet[M]) -> QuerySet[M]:
        """``qs`` with ``caller_manages`` on each event: whether it is among ``events_managed``
        (the same rule, as one column of the same query). Anything that carries an event's
        sign-in token (its sign-in URL, its QR code) is shown only where this is true."""
        if not self.can(EVENTS_WRITE) or self.sees_nothing:
            managed: Any = Value(False)
        elif self.everywhere:
            managed = Value(True)
        else:
            managed = ExpressionWrapper(self.unit_q("organiser"), output_field=BooleanField())
        return qs.annotate(caller_manages=managed)

    # --- personal data ------------------------------------------------------------------
    @property
    def sees_personal_data(self) -> bool:
        return self.is_superuser or self.role in PERSONAL_DATA_ROLES

    @property
    def may_reveal_id_number(self) -> bool:
        return self.can(STAFF_REVEAL_ID_NUMBER)

    def id_number_for(self, staff: Staff) -> str | None:
        """Always the masked form (450203********123X); None when the caller sees no personal data."""
        return staff.id_number_masked if self.sees_personal_data else None

    def phone_for(self, staff: Staff) -> str | None:
        """In full for hr, legal_office and a liaison of the person's own subtree; the last
        4 digits for others who see personal data; None for viewers. ``staff.unit`` must be
        loaded (select_related) to keep lists at a fixed number of queries."""
        if not self.sees_personal_data:
            return None
        if self.is_superuser or (self.role in FULL_PHONE_ROLES and self.everywhere) or self.contains_path(staff.unit.path):
            return staff.phone
        return staff.phone_masked


NO_SCOPE = Scope(user=None, role=None, unit=None)


def _role_of(user: Any) -> UserRole | None:
    descriptor = user.__class__.api_role  # __class__, not type(): request.user may be a lazy object
    if descriptor.is_cached(user):
        try:
            return user.api_role
        except ObjectDoesNotExist:
            return None
    return UserRole.objects.select_related("unit", "staff__unit").filter(user_id=user.pk).first()


def scope_for(user: Any) -> Scope:
    """The caller's scope; computed once per user object (that is, once per request)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_SCOPE
    cached = getattr(user, "_legaltrack_scope", None)
    if cached is not None:
        return cached
    role = _role_of(user)
    exempt = bool(role and role.rate_limit_exempt)
    if user.is_superuser:
        scope = Scope(user=user, role=SUPERUSER, unit=None, rate_limit_exempt=exempt)
    elif role is None or (role.role == Role.LIAISON and role.unit_id is None):
        scope = Scope(user=user, role=None, unit=None, rate_limit_exempt=exempt)
    elif role.role == Role.STAFF:
        # the account of one person works while that person is on the roster: once they
        # leave (deactivated), it has no role at all
        person = role.staff if role.staff_id else None
        if person is None or not person.is_active:
            scope = Scope(user=user, role=None, unit=None, rate_limit_exempt=exempt)
        else:
            scope = Scope(user=user, role=Role.STAFF, unit=None, rate_limit_exempt=exempt, person=person)
    else:
        # a liaison's unit, or a scoped office's (hr, legal_office with a unit): their subtree
        scope = Scope(user=user, role=role.role, unit=role.unit if role.role in SCOPED_ROLES else None,
                      rate_limit_exempt=exempt)
    user._legaltrack_scope = scope
    return scope


def capabilities_of(role: str) -> Iterable[str]:
    return sorted(ROLE_CAPABILITIES.get(role, ()))
