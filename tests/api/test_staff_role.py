"""The staff role: `set_role USERNAME staff --staff-no STAFF_NO`, a user linked to one person.
Its scope (the self scope) sees that person and nothing else, and stops working when the
person leaves the roster."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from access.models import Role, UserRole
from access.scoping import scope_for
from roster.models import Staff
from roster.staff import staff_update
from tests.helpers import run_command

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_set_role_links_a_user_to_one_person(district):
    outcome = run_command("set_role", "zhang3", "staff", "--staff-no", "0001", "--password", "Long-enough-pw-1", "--json")
    assert outcome.code == 0, outcome.err
    assert outcome.json() == {"username": "zhang3", "role": "staff", "unit": None, "staff_no": "0001", "email": "", "created": True,
                              "rate_limit_exempt": False}
    role = UserRole.objects.get(user__username="zhang3")
    assert (role.role, role.staff.staff_no, role.unit) == (Role.STAFF, "0001", None)
    text = run_command("set_role", "zhang3", "staff", "--staff-no", "0001")
    assert "本人：人员1（0001）" in text.out


@pytest.mark.parametrize("args, message", [
    (("staff",), "错误：本人账号（staff）必须用 --staff-no 指定人员工号。"),
    (("staff", "--staff-no", "9999"), "错误：工号“9999”不存在。"),
    (("staff", "--staff-no", "0001", "--unit", "A"), "错误：只有单位联络员（liaison）、法治办（legal_office）和人事部门（hr）可以用 --unit。"),
    (("viewer", "--staff-no", "0001"), "错误：只有本人账号（staff）需要 --staff-no。"),
])
def test_set_role_refuses_a_staff_account_without_its_person(district, args, message):
    outcome = run_command("set_role", "li4", *args)
    assert (outcome.code, outcome.err.strip()) == (1, message)
    assert not User.objects.filter(username="li4").exists()


def test_set_role_refuses_a_leaver_and_a_second_account_for_one_person(district):
    Staff.objects.filter(staff_no="0002").update(is_active=False)
    outcome = run_command("set_role", "wang", "staff", "--staff-no", "0002")
    assert (outcome.code, outcome.err.strip()) == (1, "错误：工号“0002”的人员已离册，不能为其设定本人账号。")
    assert run_command("set_role", "zhao", "staff", "--staff-no", "0003").code == 0
    second = run_command("set_role", "qian", "staff", "--staff-no", "0003")
    assert second.code == 1 and "已关联账号 zhao" in second.err
    assert not User.objects.filter(username__in=["wang", "qian"]).exists()


def test_another_role_drops_the_link_to_the_person(district):
    run_command("set_role", "zhao", "staff", "--staff-no", "0003")
    assert run_command("set_role", "zhao", "viewer").code == 0
    assert UserRole.objects.get(user__username="zhao").staff is None


def test_the_self_scope_sees_one_person_and_no_unit(district, staff_persona, units):
    scope = scope_for(User.objects.get(username="self_a"))
    assert scope.is_self and not scope.everywhere and scope.person.staff_no == "0001"
    assert list(scope.record_staff().values_list("staff_no", flat=True)) == ["0001"]
    assert not scope.units().exists() and not scope.staff().exists()
    assert not scope.narrow(Staff.objects.all()).exists()
    assert not scope.contains(units["A"]) and not scope.sees_personal_data


def test_the_role_stops_working_when_the_person_leaves_and_works_again_when_they_return(district, staff_persona):
    client = staff_persona.client()
    assert client.get("/api/v1/me/record/").status_code == 200
    person = Staff.objects.get(staff_no="0001")
    staff_update(staff=person, changes={"is_active": False})
    for path in ("/api/v1/me/record/", "/api/v1/staff/0001/record/"):
        assert client.get(path).status_code == 403
    assert scope_for(User.objects.get(username="self_a")).role is None
    staff_update(staff=person, changes={"is_active": True})
    assert client.get("/api/v1/me/record/").status_code == 200


def test_a_roster_sync_that_drops_the_person_stops_the_role(district, staff_persona):
    from tests.exams.conftest import sync

    sync(district.a[1:] + district.b + district.t1, allow_mass_deactivation=True)
    assert staff_persona.client().get("/api/v1/me/record/").status_code == 403
