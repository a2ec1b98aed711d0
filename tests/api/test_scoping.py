"""The one scoping helper, used directly (as server-rendered pages will use it)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from access import scoping
from access.scoping import scope_for
from roster.models import Staff, StaffChange, Unit
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import csv_bytes

pytestmark = pytest.mark.django_db


def codes(qs) -> set[str]:
    return set(qs.values_list("code", flat=True))


def test_liaison_sees_only_their_subtree_of_units_and_staff(personas, district):
    scope = scope_for(personas["liaison_a"].user)
    assert codes(scope.units()) == {"A"}
    assert set(scope.staff().values_list("staff_no", flat=True)) == district.staff_nos("a")


def test_liaison_of_a_parent_unit_sees_the_whole_subtree(units, district):
    from tests.api.conftest import make_persona

    town = make_persona("town", "liaison", "T")
    scope = scope_for(town.user)
    assert codes(scope.units()) == {"T", "T1"}
    assert set(scope.staff().values_list("staff_no", flat=True)) == district.staff_nos("t1")


@pytest.mark.parametrize("role", ["hr", "legal_office", "viewer"])
def test_roles_other_than_liaison_see_every_unit(role, personas, units):
    assert codes(scope_for(personas[role].user).units()) == set(units)


def test_narrow_works_on_anything_that_reaches_a_unit(personas, district):
    """StaffChange reaches its unit through staff__unit: the same helper narrows it."""
    everyone = district.a + district.b + district.t1
    for person in everyone:
        person.position = "科长"
    assert roster_sync(sync=roster_sync_create(file=csv_bytes(everyone), file_name="r2.csv")).updated == 13
    scope = scope_for(personas["liaison_b"].user)
    changes = scope.narrow(StaffChange.objects.all(), unit_field="staff__unit")
    assert set(changes.values_list("staff__staff_no", flat=True)) == district.staff_nos("b")
    assert changes.count() == len(district.b)


def test_unit_in_another_subtree_resolves_like_a_missing_one(personas, units):
    scope = scope_for(personas["liaison_a"].user)
    assert scope.resolve_unit("A") == units["A"]
    for code in ("B", "D", "NOPE", ""):
        with pytest.raises(Http404):
            scope.resolve_unit(code)


def test_narrowing_within_a_resolved_unit(personas, district):
    scope = scope_for(personas["hr"].user)
    town = scope.resolve_unit("T")
    assert set(scope.staff(within=town).values_list("staff_no", flat=True)) == district.staff_nos("t1")


def test_capabilities_by_role(personas):
    can = {name: scope_for(p.user) for name, p in personas.items() if p.user}
    assert can["hr"].can(scoping.STAFF_WRITE) and can["hr"].can(scoping.STAFF_REVEAL_ID_NUMBER)
    assert can["legal_office"].can(scoping.STAFF_READ) and not can["legal_office"].can(scoping.STAFF_WRITE)
    assert can["liaison_a"].can(scoping.STAFF_READ) and not can["liaison_a"].can(scoping.ROSTER_SYNC_READ)
    assert not can["viewer"].can(scoping.STAFF_READ) and can["viewer"].can(scoping.UNITS_READ)
    with pytest.raises(PermissionDenied):
        can["legal_office"].require(scoping.STAFF_REVEAL_ID_NUMBER)


def test_superuser_may_do_everything(units, district):
    admin = get_user_model().objects.create_superuser("root", "", "x")
    scope = scope_for(admin)
    assert scope.can(scoping.STAFF_WRITE) and scope.can("anything.added.later")
    assert scope.staff().count() == Staff.objects.count()


def test_user_without_role_and_anonymous_see_nothing(units, district):
    plain = get_user_model().objects.create_user("plain", password="x")
    for user in (plain, AnonymousUser(), None):
        scope = scope_for(user)
        assert not scope.can(scoping.UNITS_READ)
        assert not scope.units().exists() and not scope.staff().exists()
        with pytest.raises(Http404):
            scope.resolve_unit("A")


def test_phone_is_full_inside_the_subtree_and_masked_outside(personas, district):
    a_member = Staff.objects.select_related("unit").get(staff_no=district.a[0].staff_no)
    b_member = Staff.objects.select_related("unit").get(staff_no=district.b[0].staff_no)
    liaison = scope_for(personas["liaison_a"].user)
    assert liaison.phone_for(a_member) == a_member.phone
    assert liaison.phone_for(b_member) == "*******" + b_member.phone[-4:]
    for role in ("hr", "legal_office"):
        assert scope_for(personas[role].user).phone_for(b_member) == b_member.phone


def test_viewer_gets_no_phone_and_no_id_number(personas, district):
    member = Staff.objects.select_related("unit").first()
    viewer = scope_for(personas["viewer"].user)
    assert viewer.phone_for(member) is None and viewer.id_number_for(member) is None


def test_id_number_is_masked_for_every_role(personas, district):
    member = Staff.objects.select_related("unit").get(staff_no=district.a[0].staff_no)
    plain = district.a[0].id_number
    for role in ("hr", "legal_office", "liaison_a"):
        shown = scope_for(personas[role].user).id_number_for(member)
        assert shown == plain[:6] + "********" + plain[-4:]


def test_scope_is_computed_once_per_user_object(personas, django_assert_num_queries):
    user = get_user_model().objects.get(pk=personas["liaison_a"].user.pk)
    with django_assert_num_queries(1):
        scope_for(user)
        scope_for(user)
        scope_for(user).units  # noqa: B018  (building the queryset runs nothing)


def test_liaison_without_unit_is_refused_by_the_database(personas):
    from django.db import IntegrityError, transaction

    from access.models import UserRole

    role = UserRole.objects.get(user=personas["liaison_a"].user)
    role.unit = None
    with pytest.raises(IntegrityError), transaction.atomic():
        role.save()


def test_grant_adds_a_capability_for_apps_added_later(personas):
    try:
        assert not scope_for(personas["viewer"].user).can("later.read")
        scoping.grant("later.read", "viewer")
        viewer = get_user_model().objects.get(pk=personas["viewer"].user.pk)
        assert scope_for(viewer).can("later.read")
    finally:
        scoping.ROLE_CAPABILITIES["viewer"].discard("later.read")


def test_domain_capabilities_are_granted_at_start_as_the_issue_lists_them():
    """Exams, training and reports add their capabilities through ``grant`` in ApiConfig.ready."""
    caps = {role: set(scoping.capabilities_of(role)) for role in ("hr", "legal_office", "liaison", "viewer", "staff")}
    domain = set(scoping.DOMAIN_CAPABILITIES)
    assert caps["hr"] & domain == set()  # hr keeps its roster rights
    assert domain - {scoping.REPORTS_READ_SUBTREE, scoping.RECORD_SELF} <= caps["legal_office"]
    assert caps["liaison"] & domain == {scoping.STATS_READ, scoping.EXAMS_READ, scoping.NOT_SAT_READ,
                                        scoping.EVENTS_READ, scoping.EVENTS_WRITE, scoping.REPORTS_READ_SUBTREE,
                                        scoping.RECORDS_READ, scoping.LEARNING_FILE_READ}
    assert caps["viewer"] & domain == {scoping.STATS_READ, scoping.EXAMS_READ, scoping.REPORTS_READ}
    # the self scope reads its own record and nothing else
    assert caps["staff"] == {scoping.RECORDS_READ, scoping.RECORD_SELF}


def test_within_is_the_liaisons_own_unit_unless_a_unit_is_named(personas, units):
    liaison = scope_for(personas["liaison_a"].user)
    assert liaison.within(None) == units["A"]
    assert liaison.within("A") == units["A"]
    with pytest.raises(Http404):
        liaison.within("B")
    legal = scope_for(personas["legal_office"].user)
    assert legal.within(None) is None and legal.within("T") == units["T"]


def test_a_liaison_reads_the_events_that_concern_their_subtree_and_runs_those_it_organises(personas, units):
    import datetime as dt

    from training.events import training_event_create
    from training.models import TrainingEvent

    for code in ("A", "B", None):
        training_event_create(title=f"活动{code}", kind="lecture", date=dt.date(2026, 1, 5), hours=1,
                              organiser=units[code] if code else None, audience="units",
                              audience_units=[units[code or "B"]])
    training_event_create(title="全区讲座", kind="lecture", date=dt.date(2026, 1, 6), hours=1, organiser=units["B"])
    training_event_create(title="负责人旁听庭审", kind="court_observation", date=dt.date(2026, 1, 7), hours=1,
                          audience="unit_heads")
    training_event_create(title="邀请A", kind="lecture", date=dt.date(2026, 1, 8), hours=1, organiser=units["B"],
                          audience="units", audience_units=[units["A"]])

    def titles(scope, managed=False):
        events = scope.events_managed if managed else scope.events
        return set(events(TrainingEvent.objects.all()).values_list("title", flat=True))

    liaison_a = scope_for(personas["liaison_a"].user)
    assert titles(liaison_a) == {"活动A", "全区讲座", "负责人旁听庭审", "邀请A"}
    assert titles(liaison_a, managed=True) == {"活动A"}
    everything = {"活动A", "活动B", "活动None", "全区讲座", "负责人旁听庭审", "邀请A"}
    assert titles(scope_for(personas["legal_office"].user)) == everything
    assert titles(scope_for(personas["legal_office"].user), managed=True) == everything
    for role in ("viewer", "hr"):
        assert titles(scope_for(personas[role].user)) == set()
        assert titles(scope_for(personas[role].user), managed=True) == set()


def test_units_helper_is_usable_without_drf(personas, units):
    """A server-rendered page gets a queryset and a 404 from the same helper."""
    from django.test import RequestFactory

    request = RequestFactory().get("/some/page", {"unit": "B"})
    request.user = personas["liaison_a"].user
    scope = scope_for(request.user)
    with pytest.raises(Http404):
        scope.resolve_unit(request.GET["unit"])
    assert list(scope.units().values_list("code", flat=True)) == ["A"]
    assert isinstance(scope.units().first(), Unit)


def test_a_view_that_names_no_capability_for_an_action_is_closed(personas):
    """The permission class fails closed: a new action without a capability is refused."""
    from rest_framework import mixins, viewsets
    from rest_framework.test import APIRequestFactory, force_authenticate

    from api.serializers import UnitSerializer

    class Forgetful(mixins.ListModelMixin, viewsets.GenericViewSet):
        serializer_class = UnitSerializer
        capabilities: dict = {}

        def get_queryset(self):
            return Unit.objects.all()

    request = APIRequestFactory().get("/x/")
    force_authenticate(request, user=personas["hr"].user)
    assert Forgetful.as_view({"get": "list"})(request).status_code == 403


def test_report_root_is_the_district_or_a_liaisons_own_unit_and_403_for_others(personas, units):
    assert scope_for(personas["legal_office"].user).report_root() is None
    assert scope_for(personas["viewer"].user).report_root() is None
    assert scope_for(personas["liaison_a"].user).report_root() == units["A"]
    with pytest.raises(PermissionDenied):
        scope_for(personas["hr"].user).report_root()


def test_only_a_liaison_must_name_an_organiser_for_a_new_event(personas):
    assert scope_for(personas["liaison_a"].user).organiser_required
    assert not scope_for(personas["legal_office"].user).organiser_required
