"""SCIM Users over real HTTP (the live server) and the real database: every mapping, every
filter form, paging and attribute selection, PUT, every PATCH form, DELETE then GET 404 then
POST reactivating, the mass-deactivation guard at its boundary, refusals in Chinese."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from audit.models import AuditAction, AuditEvent
from roster import idnumbers
from roster.models import ChangeKind, Staff, StaffChange
from roster.staff import staff_create
from tests.helpers import new_id
from tests.scim.conftest import CORE, ENTERPRISE, ERROR, OURS, SCIM_TYPE, user_body


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def assert_scim_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(SCIM_TYPE)
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status)
    assert is_chinese(body["detail"]), body
    if scim_type is not None:
        assert body["scimType"] == scim_type, body
    return body


def person(district, staff_no: str, name: str, unit: str = "A", **kwargs) -> Staff:
    return staff_create(staff_no=staff_no, name=name, id_number=new_id(), unit=district[unit], **kwargs)


# --- mapping -----------------------------------------------------------------------------------
def test_post_maps_every_attribute_to_the_roster_and_back(provisioner_scim, district):
    number = new_id()
    body = user_body("1001", "张三", unit="B", id_number=number, externalId="hr-1001", title="科长",
                     phoneNumbers=[{"value": "13800000001", "type": "work"}])
    body[OURS].update(category="公务员", isHead=True, enforcementCert="ZF-1")
    response = provisioner_scim.post("/Users", body)
    assert response.status_code == 201, response.text
    assert response.headers["Content-Type"].startswith(SCIM_TYPE)
    assert response.headers["Cache-Control"] == "no-store"
    user = response.json()
    staff = Staff.objects.select_related("unit").get(staff_no="1001")
    assert response.headers["Location"].endswith(f"/scim/v2/Users/{staff.pk}")
    assert (staff.name, staff.position, staff.phone, staff.external_id, staff.unit.code) == (
        "张三", "科长", "13800000001", "hr-1001", "B")
    assert (staff.category, staff.is_head, staff.enforcement_cert, staff.is_active) == ("公务员", True, "ZF-1", True)
    # the ID number is sealed like any other: cipher, hash and mask, never plain
    assert staff.reveal_id_number() == number and staff.id_number_masked == idnumbers.mask(number)
    assert number not in response.text
    assert user["id"] == str(staff.pk) and user["userName"] == "1001" and user["externalId"] == "hr-1001"
    assert user["name"] == {"formatted": "张三"} and user["displayName"] == "张三"
    assert user["title"] == "科长" and user["active"] is True
    assert user["phoneNumbers"] == [{"value": "13800000001", "type": "work"}]
    assert user[ENTERPRISE] == {"employeeNumber": "1001", "department": "B"}
    assert user[OURS] == {"category": "公务员", "isHead": True, "enforcementCert": "ZF-1"}
    assert user["groups"][0]["value"] == str(district["B"].pk)
    assert user["meta"]["resourceType"] == "User"
    created = StaffChange.objects.get(staff=staff)
    assert (created.kind, created.source) == (ChangeKind.CREATED, "scim")


def test_id_number_is_never_returned_even_when_asked_for(provisioner_scim, district):
    number = new_id()
    uid = provisioner_scim.post("/Users", user_body("1002", id_number=number)).json()["id"]
    for response in (provisioner_scim.get(f"/Users/{uid}"),
                     provisioner_scim.get(f"/Users/{uid}", attributes=f"{OURS}:idNumber"),
                     provisioner_scim.get("/Users", attributes="idNumber")):
        assert response.status_code == 200
        assert number not in response.text and "idNumber" not in response.text


def test_display_name_alone_gives_the_name(provisioner_scim, district):
    body = user_body("1003")
    del body["name"]
    body["displayName"] = "王五"
    assert provisioner_scim.post("/Users", body).status_code == 201
    assert Staff.objects.get(staff_no="1003").name == "王五"


# --- refusals ----------------------------------------------------------------------------------
def test_a_bad_id_number_is_refused_with_invalid_value(provisioner_scim, district):
    body = user_body("1004", id_number="11010119900101123")  # 17 characters
    detail = assert_scim_error(provisioner_scim.post("/Users", body), 400, "invalidValue")["detail"]
    assert "身份证号" in detail
    good = new_id()
    body[OURS]["idNumber"] = good[:17] + ("X" if good[17] != "X" else "0")  # the check digit is wrong
    detail = assert_scim_error(provisioner_scim.post("/Users", body), 400, "invalidValue")["detail"]
    assert "校验位" in detail
    assert not Staff.objects.filter(staff_no="1004").exists()


def test_an_id_number_held_by_someone_else_is_refused(provisioner_scim, district):
    number = new_id()
    staff_create(staff_no="9001", name="甲", id_number=number, unit=district["A"])
    detail = assert_scim_error(provisioner_scim.post("/Users", user_body("1005", id_number=number)), 400,
                               "invalidValue")["detail"]
    assert "9001" in detail and number not in detail


def test_an_unknown_unit_is_refused(provisioner_scim, district):
    detail = assert_scim_error(provisioner_scim.post("/Users", user_body("1006", unit="NOPE")), 400,
                               "invalidValue")["detail"]
    assert "NOPE" in detail and "单位" in detail
    assert not Staff.objects.filter(staff_no="1006").exists()


def test_missing_required_values_are_refused(provisioner_scim, district):
    body = user_body("1007")
    del body[OURS]
    assert "身份证号" in assert_scim_error(provisioner_scim.post("/Users", body), 400, "invalidValue")["detail"]
    body = user_body("1007")
    del body[ENTERPRISE]
    assert "department" in assert_scim_error(provisioner_scim.post("/Users", body), 400, "invalidValue")["detail"]
    body = user_body("")
    assert assert_scim_error(provisioner_scim.post("/Users", body), 400, "invalidValue")


def test_an_active_user_name_is_a_uniqueness_conflict(provisioner_scim, district):
    person(district, "1008", "赵六")
    assert_scim_error(provisioner_scim.post("/Users", user_body("1008")), 409, "uniqueness")


def test_malformed_json_and_unknown_users(provisioner_scim, district):
    response = provisioner_scim.send("POST", "/Users", None)
    assert response.status_code == 400
    import requests

    response = requests.post(provisioner_scim.base + "/Users", data=b"{not json", timeout=30,
                             headers=provisioner_scim.headers({"Content-Type": SCIM_TYPE}))
    assert_scim_error(response, 400, "invalidSyntax")
    assert_scim_error(provisioner_scim.get("/Users/999999"), 404)
    assert_scim_error(provisioner_scim.get("/Users/abc"), 404)
    assert_scim_error(provisioner_scim.get("/Nowhere"), 404)


# --- filters, paging, attributes ---------------------------------------------------------------
@pytest.fixture
def roster(district):
    people = {
        "2001": person(district, "2001", "张伟", "A", external_id="hr-a", position="科员"),
        "2002": person(district, "2002", "张敏", "B", external_id="hr-b"),
        "2003": person(district, "2003", "李强", "A"),
        "3001": person(district, "3001", "王芳", "T1", external_id="hr-c", position="主任"),
    }
    Staff.objects.filter(staff_no="2003").update(is_active=False)
    return people


def user_names(response) -> set[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totalResults"] == len(body["Resources"])
    return {r["userName"] for r in body["Resources"]}


@pytest.mark.parametrize("text, expected", [
    ('userName eq "2001"', {"2001"}),
    ('userName ne "2001"', {"2002", "2003", "3001"}),
    ('userName sw "20"', {"2001", "2002", "2003"}),
    ('userName co "00"', {"2001", "2002", "2003", "3001"}),
    ('externalId eq "hr-b"', {"2002"}),
    ("externalId pr", {"2001", "2002", "3001"}),
    ('externalId sw "hr-"', {"2001", "2002", "3001"}),
    ("active eq false", {"2003"}),
    ("active ne false", {"2001", "2002", "3001"}),
    ('name.formatted eq "张敏"', {"2002"}),
    ('name.formatted sw "张"', {"2001", "2002"}),
    ('name.formatted co "强"', {"2003"}),
    (f'{ENTERPRISE}:department eq "A"', {"2001", "2003"}),
    ('department ne "A"', {"2002", "3001"}),
    (f'{ENTERPRISE}:employeeNumber eq "3001"', {"3001"}),
    ('employeeNumber sw "3"', {"3001"}),
    ("title pr", {"2001", "3001"}),
    ('department eq "A" and active eq true', {"2001"}),
    ('userName eq "2001" or userName eq "3001"', {"2001", "3001"}),
    ('(department eq "A" or department eq "B") and not (name.formatted sw "李")', {"2001", "2002"}),
    ('userName eq "nobody"', set()),
])
def test_filters_over_http(provisioner_scim, roster, text, expected):
    assert user_names(provisioner_scim.get("/Users", filter=text)) == expected


def test_a_bad_filter_is_a_scim_error(provisioner_scim, roster):
    assert_scim_error(provisioner_scim.get("/Users", filter='userName eq'), 400, "invalidFilter")
    assert_scim_error(provisioner_scim.get("/Users", filter='nickName eq "x"'), 400, "invalidFilter")


def test_start_index_and_count_page_in_id_order(provisioner_scim, roster):
    ids = sorted(s.pk for s in roster.values())
    body = provisioner_scim.get("/Users", startIndex=2, count=2).json()
    assert (body["totalResults"], body["startIndex"], body["itemsPerPage"]) == (4, 2, 2)
    assert [int(r["id"]) for r in body["Resources"]] == ids[1:3]
    body = provisioner_scim.get("/Users", startIndex=0, count=0).json()
    assert (body["totalResults"], body["startIndex"], body["Resources"]) == (4, 1, [])
    assert provisioner_scim.get("/Users", startIndex=4, count=10).json()["itemsPerPage"] == 1


def test_attributes_and_excluded_attributes(provisioner_scim, roster):
    body = provisioner_scim.get("/Users", filter='userName eq "2001"', attributes="userName,name.formatted").json()
    assert body["Resources"] == [{"schemas": body["Resources"][0]["schemas"], "id": str(roster["2001"].pk),
                                  "userName": "2001", "name": {"formatted": "张伟"}}]
    one = provisioner_scim.get(f"/Users/{roster['2001'].pk}", attributes=f"{ENTERPRISE}:department").json()
    assert one[ENTERPRISE] == {"department": "A"} and "userName" not in one
    one = provisioner_scim.get(f"/Users/{roster['2001'].pk}", excludedAttributes="title,groups,id").json()
    assert "title" not in one and "groups" not in one and one["id"] == str(roster["2001"].pk)
    assert one["userName"] == "2001"


def test_search_by_post(provisioner_scim, roster):
    response = provisioner_scim.post("/Users/.search", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'department eq "A"', "attributes": ["userName"], "startIndex": 1, "count": 10})
    assert user_names(response) == {"2001", "2003"}
    assert set(response.json()["Resources"][0]) == {"schemas", "id", "userName"}


# --- PUT and PATCH -----------------------------------------------------------------------------
@pytest.fixture
def one(provisioner_scim, district) -> dict:
    body = user_body("4001", "陈一", unit="A", externalId="hr-4001", title="科员",
                     phoneNumbers=[{"value": "13800004001"}])
    body[OURS].update(category="公务员", enforcementCert="ZF-9")
    response = provisioner_scim.post("/Users", body)
    assert response.status_code == 201, response.text
    return response.json()


def staff_of(user: dict) -> Staff:
    return Staff.objects.select_related("unit").get(pk=int(user["id"]))


def test_put_replaces_and_clears_what_it_leaves_out(provisioner_scim, one):
    before = staff_of(one).id_number_hash
    body = user_body("4001", "陈二", unit="B", title="科长")
    del body[OURS]
    response = provisioner_scim.put(f"/Users/{one['id']}", body)
    assert response.status_code == 200, response.text
    staff = staff_of(one)
    assert (staff.name, staff.unit.code, staff.position, staff.phone, staff.external_id, staff.category) == (
        "陈二", "B", "科长", "", "", "")
    assert staff.id_number_hash == before  # never returned, so kept when absent
    changes = StaffChange.objects.filter(staff=staff).exclude(kind=ChangeKind.CREATED)
    assert {c.field for c in changes} >= {"name", "unit", "position", "phone", "external_id", "category"}
    assert {c.source for c in changes} == {"scim"}
    assert response.json()["name"] == {"formatted": "陈二"}


def test_put_may_not_change_the_user_name(provisioner_scim, one):
    assert_scim_error(provisioner_scim.put(f"/Users/{one['id']}", user_body("4999")), 400, "mutability")


def test_put_changes_the_id_number_sealed_with_a_masked_history(provisioner_scim, one):
    number = new_id()
    assert provisioner_scim.put(f"/Users/{one['id']}", user_body("4001", "陈一", id_number=number)).status_code == 200
    staff = staff_of(one)
    assert staff.reveal_id_number() == number
    change = StaffChange.objects.get(staff=staff, field="id_number")
    assert number not in change.old_value + change.new_value and change.new_value == idnumbers.mask(number)


@pytest.mark.parametrize("operations, check", [
    ([{"op": "replace", "path": "title", "value": "副科长"}], lambda s: s.position == "副科长"),
    ([{"op": "add", "path": "title", "value": "主任"}], lambda s: s.position == "主任"),
    ([{"op": "remove", "path": "title"}], lambda s: s.position == ""),
    ([{"op": "replace", "path": "name.formatted", "value": "陈三"}], lambda s: s.name == "陈三"),
    ([{"op": "replace", "path": "displayName", "value": "陈四"}], lambda s: s.name == "陈四"),
    ([{"op": "replace", "path": "name", "value": {"formatted": "陈五"}}], lambda s: s.name == "陈五"),
    ([{"op": "replace", "path": "externalId", "value": "hr-new"}], lambda s: s.external_id == "hr-new"),
    ([{"op": "remove", "path": "externalId"}], lambda s: s.external_id == ""),
    ([{"op": "replace", "value": {"title": "处长", "externalId": "x-1"}}],
     lambda s: (s.position, s.external_id) == ("处长", "x-1")),
    ([{"op": "replace", "value": {"name.formatted": "陈六"}}], lambda s: s.name == "陈六"),
    ([{"op": "replace", "path": f"{ENTERPRISE}:department", "value": "T1"}], lambda s: s.unit.code == "T1"),
    ([{"op": "replace", "value": {ENTERPRISE: {"department": "B"}}}], lambda s: s.unit.code == "B"),
    ([{"op": "add", "path": f"{OURS}:isHead", "value": True}], lambda s: s.is_head),
    ([{"op": "replace", "path": OURS, "value": {"category": "事业编"}}], lambda s: s.category == "事业编"),
    ([{"op": "remove", "path": f"{OURS}:enforcementCert"}], lambda s: s.enforcement_cert == ""),
    ([{"op": "replace", "path": 'phoneNumbers[type eq "work"].value', "value": "13900000000"}],
     lambda s: s.phone == "13900000000"),
    ([{"op": "add", "path": "phoneNumbers", "value": [{"value": "13700000000", "type": "mobile"}]}],
     lambda s: s.phone == "13700000000"),
    ([{"op": "replace", "path": "phoneNumbers", "value": [{"value": "13600000000"}]}],
     lambda s: s.phone == "13600000000"),
    ([{"op": "remove", "path": "phoneNumbers"}], lambda s: s.phone == ""),
    ([{"op": "remove", "path": 'phoneNumbers[type eq "work"]'}], lambda s: s.phone == ""),
    ([{"op": "replace", "path": "title", "value": "甲"}, {"op": "replace", "path": "title", "value": "乙"}],
     lambda s: s.position == "乙"),
])
def test_patch_forms(provisioner_scim, one, operations, check):
    response = provisioner_scim.patch(f"/Users/{one['id']}", *operations)
    assert response.status_code == 200, response.text
    staff = staff_of(one)
    assert check(staff)
    assert provisioner_scim.get(f"/Users/{one['id']}").json() == response.json()
    assert set(StaffChange.objects.filter(staff=staff).values_list("source", flat=True)) == {"scim"}


def test_patch_of_the_id_number_and_refusals(provisioner_scim, one):
    number = new_id()
    response = provisioner_scim.patch(f"/Users/{one['id']}", {"op": "replace", "path": f"{OURS}:idNumber",
                                                              "value": number})
    assert response.status_code == 200 and number not in response.text
    assert staff_of(one).reveal_id_number() == number
    assert_scim_error(provisioner_scim.patch(f"/Users/{one['id']}", {"op": "replace", "path": f"{OURS}:idNumber",
                                                                     "value": "123"}), 400, "invalidValue")
    assert_scim_error(provisioner_scim.patch(f"/Users/{one['id']}", {"op": "replace", "path": "userName",
                                                                     "value": "x"}), 400, "mutability")
    assert_scim_error(provisioner_scim.patch(f"/Users/{one['id']}", {"op": "remove"}), 400, "noTarget")
    assert_scim_error(provisioner_scim.patch(f"/Users/{one['id']}", {"op": "replace",
                                                                     "path": f"{ENTERPRISE}:department",
                                                                     "value": "NOPE"}), 400, "invalidValue")
    assert staff_of(one).unit.code == "A"


# --- deactivating, deleting, reactivating ------------------------------------------------------
@pytest.fixture
def loose_guard(settings):
    settings.ROSTER_MASS_DEACTIVATION_RATIO = 1.0


def test_active_false_deactivates_and_stays_readable(provisioner_scim, one, loose_guard):
    response = provisioner_scim.patch(f"/Users/{one['id']}", {"op": "replace", "path": "active", "value": False})
    assert response.status_code == 200 and response.json()["active"] is False
    staff = staff_of(one)
    assert not staff.is_active and staff.left_on is not None
    got = provisioner_scim.get(f"/Users/{one['id']}")
    assert got.status_code == 200 and got.json()["active"] is False
    change = StaffChange.objects.get(staff=staff, kind=ChangeKind.DEACTIVATED)
    assert change.source == "scim"
    body = user_body("4001", "陈一", active=True)
    del body[OURS]
    assert provisioner_scim.put(f"/Users/{one['id']}", body).json()["active"] is True
    assert staff_of(one).is_active


def test_delete_deactivates_then_404_then_post_reactivates_the_same_person(provisioner_scim, one, loose_guard):
    pk = int(one["id"])
    response = provisioner_scim.delete(f"/Users/{pk}")
    assert response.status_code == 204
    staff = Staff.objects.get(pk=pk)  # never deleted
    assert not staff.is_active and staff.scim_deleted
    assert_scim_error(provisioner_scim.get(f"/Users/{pk}"), 404)
    assert_scim_error(provisioner_scim.delete(f"/Users/{pk}"), 404)
    assert_scim_error(provisioner_scim.patch(f"/Users/{pk}", {"op": "replace", "path": "title", "value": "x"}), 404)
    assert user_names(provisioner_scim.get("/Users", filter='userName eq "4001"')) == set()
    body = user_body("4001", "陈一", title="返聘")
    del body[OURS]  # the same person: the ID number on file is kept
    response = provisioner_scim.post("/Users", body)
    assert response.status_code == 201, response.text
    assert response.json()["id"] == str(pk) and response.json()["active"] is True
    staff = Staff.objects.get(pk=pk)
    assert staff.is_active and not staff.scim_deleted and staff.position == "返聘"
    kinds = list(StaffChange.objects.filter(staff=staff, field="is_active").order_by("id").values_list("kind", "source"))
    assert kinds == [(ChangeKind.DEACTIVATED, "scim"), (ChangeKind.REACTIVATED, "scim")]
    assert provisioner_scim.get(f"/Users/{pk}").status_code == 200


def test_guard_at_its_boundary_then_allowed_by_hr(provisioner_scim, district, settings):
    settings.ROSTER_MASS_DEACTIVATION_RATIO = 0.2
    people = [person(district, f"50{i:02d}", f"员工{i}") for i in range(10)]
    # 2 of 10 is exactly 20%: allowed; the 3rd would pass it
    for staff in people[:2]:
        assert provisioner_scim.delete(f"/Users/{staff.pk}").status_code == 204
    detail = assert_scim_error(provisioner_scim.patch(f"/Users/{people[2].pk}", {
        "op": "replace", "path": "active", "value": False}), 409)["detail"]
    assert "scim_allow_deactivations" in detail
    assert_scim_error(provisioner_scim.delete(f"/Users/{people[2].pk}"), 409)
    assert Staff.objects.get(pk=people[2].pk).is_active
    # other changes still go through
    assert provisioner_scim.patch(f"/Users/{people[2].pk}", {"op": "replace", "path": "title",
                                                             "value": "科员"}).status_code == 200
    out = io.StringIO()
    call_command("scim_allow_deactivations", stdout=out)
    assert "已允许" in out.getvalue()
    assert provisioner_scim.delete(f"/Users/{people[2].pk}").status_code == 204
    assert provisioner_scim.delete(f"/Users/{people[3].pk}").status_code == 204
    assert Staff.objects.filter(is_active=True).count() == 6


def test_guard_counts_only_the_rolling_hour(provisioner_scim, district, settings):
    import datetime as dt

    settings.ROSTER_MASS_DEACTIVATION_RATIO = 0.1
    people = [person(district, f"60{i:02d}", f"员工{i}") for i in range(11)]  # 1 of 11 is allowed, 2 are not
    assert provisioner_scim.delete(f"/Users/{people[0].pk}").status_code == 204
    assert_scim_error(provisioner_scim.delete(f"/Users/{people[1].pk}"), 409)
    StaffChange.objects.filter(source="scim", kind=ChangeKind.DEACTIVATED).update(
        changed_at=StaffChange.objects.get(staff=people[0], kind=ChangeKind.DEACTIVATED).changed_at
        - dt.timedelta(minutes=61))
    assert provisioner_scim.delete(f"/Users/{people[1].pk}").status_code == 204


# --- who ---------------------------------------------------------------------------------------
def test_hr_may_use_scim_and_every_request_is_audited(hr_scim, district):
    before = AuditEvent.objects.filter(action=AuditAction.SCIM).count()
    assert hr_scim.post("/Users", user_body("7001")).status_code == 201
    assert hr_scim.get("/Users").status_code == 200
    events = AuditEvent.objects.filter(action=AuditAction.SCIM).order_by("id")[before:]
    assert [(e.username, e.target) for e in events] == [("hr1", "POST /scim/v2/Users"), ("hr1", "GET /scim/v2/Users")]
    assert events[1].rows == 1


def test_no_token_a_bad_token_and_other_roles_are_refused(live_server, district):
    from access.models import Role
    from tests.scim.conftest import Scim, token_for

    base = f"{live_server.url}/scim/v2"
    import requests

    response = requests.get(base + "/Users", timeout=30)
    assert_scim_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_scim_error(Scim(base, "not-a-token").get("/Users"), 401)
    for role in (Role.LEGAL_OFFICE, Role.VIEWER):
        assert_scim_error(Scim(base, token_for(f"u-{role}", role)).get("/Users"), 403)


def test_an_expired_token_is_refused(provisioner_scim, settings):
    settings.API_TOKEN_TTL_HOURS = 0
    assert_scim_error(provisioner_scim.get("/Users"), 401)


def test_core_schema_urn_in_resource(provisioner_scim, one):
    assert CORE in one["schemas"]


def test_open_exams_are_refreshed_when_scim_adds_someone(provisioner_scim, district):
    from exams.models import Candidate, EnrolledVia
    from tests.exams.conftest import make_exam

    person(district, "0001", "在册")
    exam = make_exam()
    assert list(Candidate.objects.filter(exam=exam).values_list("staff__staff_no", flat=True)) == ["0001"]
    assert provisioner_scim.post("/Users", user_body("0002", "新人", unit="B")).status_code == 201
    candidate = Candidate.objects.get(exam=exam, staff__staff_no="0002")  # refreshed on the SCIM write's commit
    assert candidate.enrolled_via == EnrolledVia.JOINER and candidate.unit.code == "B"


def test_scim_is_rate_limited_per_user(provisioner_scim, hr_scim, monkeypatch):
    from django.core.cache import cache

    from scim.authentication import ScimRateThrottle

    cache.clear()
    monkeypatch.setitem(ScimRateThrottle.THROTTLE_RATES, "scim", "3/min")
    statuses = [provisioner_scim.get("/ServiceProviderConfig").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = assert_scim_error(provisioner_scim.get("/Users"), 429)
    assert refused["status"] == "429"
    assert int(provisioner_scim.get("/Users").headers["Retry-After"]) > 0
    assert hr_scim.get("/ServiceProviderConfig").status_code == 200  # another user has their own count
    cache.clear()


def test_a_user_posted_inactive_past_the_guard_is_not_created(provisioner_scim, district):
    assert_scim_error(provisioner_scim.post("/Users", user_body("7101", active=False)), 409)
    assert not Staff.objects.filter(staff_no="7101").exists()
