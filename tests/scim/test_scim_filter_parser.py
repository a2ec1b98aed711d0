"""The SCIM filter grammar and its translation into Django Q, and PATCH on a resource's JSON:
pure logic, no database."""

from __future__ import annotations

import pytest
from django.db.models import Q

from scim import filters, patch
from scim.errors import ScimError
from scim.filters import And, Compare, Not, Or
from scim.schemas import ENTERPRISE, USER_FILTER_ATTRIBUTES, USER_SCHEMAS

OURS = USER_SCHEMAS[2]


def q(text: str) -> Q:
    return filters.filter_q(text, USER_FILTER_ATTRIBUTES, USER_SCHEMAS)


def test_every_operator_parses():
    assert filters.parse('userName eq "1001"') == Compare("userName", "eq", "1001")
    for op in ("ne", "co", "sw", "ew", "gt", "ge", "lt", "le"):
        assert filters.parse(f'title {op} "x"') == Compare("title", op, "x")
    assert filters.parse("title pr") == Compare("title", "pr")
    assert filters.parse("active eq true") == Compare("active", "eq", True)
    assert filters.parse("externalId eq null") == Compare("externalId", "eq", None)
    assert filters.parse("id eq 12") == Compare("id", "eq", 12)


def test_operators_and_literals_are_case_insensitive():
    assert filters.parse('userName EQ "a" AND active Eq TRUE') == And(
        Compare("userName", "eq", "a"), Compare("active", "eq", True))


def test_and_binds_tighter_than_or_and_not_tighter_than_and():
    a, b, c = (Compare(x, "pr") for x in ("a", "b", "c"))
    assert filters.parse("a pr or b pr and c pr") == Or(a, And(b, c))
    assert filters.parse("(a pr or b pr) and c pr") == And(Or(a, b), c)
    assert filters.parse("not (a pr) and b pr") == And(Not(a), b)


def test_strings_follow_json_escapes():
    assert filters.parse(r'title eq "say \"hi\" \u4e2d"').value == 'say "hi" 中'


@pytest.mark.parametrize("text", [
    "", 'userName eq', 'userName xx "a"', '(userName eq "a"', 'userName eq "a")', 'and userName eq "a"',
    'userName eq "a" or', 'userName eq bogus', 'not userName eq "a"', 'userName eq "unterminated',
])
def test_malformed_filters_are_refused_in_chinese(text):
    with pytest.raises(ScimError) as caught:
        filters.parse(text)
    assert caught.value.status == 400 and caught.value.scim_type == "invalidFilter"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.detail)


def test_attributes_map_to_roster_fields():
    assert q('userName eq "1001"') == Q(staff_no__exact="1001")
    assert q('externalId eq "hr-9"') == Q(external_id__exact="hr-9")
    assert q("active eq false") == Q(is_active=False)
    assert q('name.formatted co "张"') == Q(name__icontains="张")
    assert q(f'{ENTERPRISE}:department eq "A"') == Q(unit__code__exact="A")
    assert q(f'{ENTERPRISE}:employeeNumber sw "10"') == Q(staff_no__startswith="10")
    assert q(f'{OURS}:isHead eq true') == Q(is_head=True)
    assert q(f"{USER_SCHEMAS[0]}:userName eq \"x\"") == Q(staff_no__exact="x")


def test_ne_pr_and_logic_translate():
    assert q('userName ne "1001"') == ~Q(staff_no__exact="1001")
    assert q("title pr") == ~Q(position="")
    assert q("active pr") == Q()
    assert q('userName eq "a" or userName eq "b"') == Q(staff_no__exact="a") | Q(staff_no__exact="b")
    assert q('userName sw "1" and not (active eq false)') == Q(staff_no__startswith="1") & ~Q(is_active=False)


@pytest.mark.parametrize("text", ['nickName eq "x"', 'active eq "yes"', "active gt true", 'userName eq true',
                                  'id co "1"', 'meta.created gt "not a date"', "title gt null"])
def test_unknown_attributes_and_wrong_types_are_refused(text):
    with pytest.raises(ScimError) as caught:
        q(text)
    assert caught.value.scim_type == "invalidFilter"


# --- PATCH ---------------------------------------------------------------------------------
RESOURCE = {
    "schemas": list(USER_SCHEMAS), "id": "7", "userName": "1001", "name": {"formatted": "张三"},
    "title": "科员", "active": True, "phoneNumbers": [{"value": "13800000000", "type": "work"}],
    ENTERPRISE: {"employeeNumber": "1001", "department": "A"},
    OURS: {"isHead": False, "category": "公务员"},
}


def run(*operations):
    return patch.apply(RESOURCE, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                  "Operations": list(operations)}, urns=USER_SCHEMAS)


def test_replace_with_a_simple_path_and_with_a_sub_attribute():
    assert run({"op": "replace", "path": "title", "value": "科长"})["title"] == "科长"
    assert run({"op": "Replace", "path": "name.formatted", "value": "李四"})["name"] == {"formatted": "李四"}


def test_replace_without_a_path_merges_the_value():
    out = run({"op": "replace", "value": {"active": False, "title": "主任", ENTERPRISE: {"department": "B"}}})
    assert out["active"] is False and out["title"] == "主任"
    assert out[ENTERPRISE] == {"employeeNumber": "1001", "department": "B"}


def test_extension_attribute_paths():
    out = run({"op": "replace", "path": f"{ENTERPRISE}:department", "value": "B"},
              {"op": "add", "path": f"{OURS}:isHead", "value": True})
    assert out[ENTERPRISE]["department"] == "B" and out[OURS]["isHead"] is True
    assert run({"op": "remove", "path": f"{OURS}:category"})[OURS] == {"isHead": False}
    assert run({"op": "replace", "path": OURS, "value": {"category": "事业"}})[OURS]["category"] == "事业"


def test_value_filter_paths():
    out = run({"op": "replace", "path": 'phoneNumbers[type eq "work"].value', "value": "13900000000"})
    assert out["phoneNumbers"] == [{"value": "13900000000", "type": "work"}]
    assert run({"op": "remove", "path": 'phoneNumbers[type eq "work"]'})["phoneNumbers"] == []
    with pytest.raises(ScimError) as caught:
        run({"op": "replace", "path": 'phoneNumbers[type eq "home"].value', "value": "1"})
    assert caught.value.scim_type == "noTarget"


def test_add_appends_to_a_multi_valued_attribute():
    out = run({"op": "add", "path": "phoneNumbers", "value": [{"value": "13700000000"}]})
    assert [p["value"] for p in out["phoneNumbers"]] == ["13800000000", "13700000000"]


def test_remove_deletes_and_needs_a_path():
    assert "title" not in run({"op": "remove", "path": "title"})
    with pytest.raises(ScimError) as caught:
        run({"op": "remove"})
    assert caught.value.scim_type == "noTarget"


@pytest.mark.parametrize("body", [
    {"Operations": [{"op": "add", "path": "title", "value": "x"}]},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "move", "path": "title"}]},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "title"}]},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "a b"}]},
])
def test_malformed_patch_bodies_are_refused(body):
    with pytest.raises(ScimError) as caught:
        patch.apply(RESOURCE, body, urns=USER_SCHEMAS)
    assert caught.value.status == 400


def test_the_original_resource_is_left_untouched():
    run({"op": "replace", "path": "name.formatted", "value": "李四"}, {"op": "remove", "path": "phoneNumbers"})
    assert RESOURCE["name"] == {"formatted": "张三"} and RESOURCE["phoneNumbers"]
