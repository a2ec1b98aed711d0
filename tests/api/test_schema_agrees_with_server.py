"""Issue 12, item 7: what the OpenAPI schema promises is what the server does, at each point
schemathesis found a disagreement: year bounds, a page past the end, the minimums of
``max_score`` and ``hours``, the token endpoint's 400, an exam's year against its dates, the
business rules that refuse schema-valid input (409 in the ``{"detail", "code", "errors"}``
shape), and the rounding of decimals."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator

from exams.creation import exam_create
from exams.models import Exam
from training.models import TrainingEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _parameter(schema, path: str, name: str) -> dict:
    return next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)["schema"]


def _error_shape(response) -> dict:
    body = response.json()
    assert set(body) >= {"detail", "code"} and isinstance(body["detail"], str), body
    return body


def test_year_bounds(schema, personas, activity):
    year = _parameter(schema, "/api/v1/exams/", "year")
    assert (year["type"], year["minimum"], year["maximum"]) == ("integer", 2000, 2100)
    client = personas["legal_office"].client()
    for value, status in ((1999, 400), (2000, 200), (2100, 200), (2101, 400)):
        assert client.get(f"/api/v1/exams/?year={value}").status_code == status, value
    body = {"name": "考试", "kind": "annual_law"}
    assert client.post("/api/v1/exams/", {**body, "year": 1999}, format="json").status_code == 400
    exam_schema = schema["components"]["schemas"]["ExamCreateRequest"]["properties"]["year"]
    assert (exam_schema["minimum"], exam_schema["maximum"]) == (2000, 2100)


def test_a_page_past_the_end_is_a_documented_404(schema, personas, activity):
    page = _parameter(schema, "/api/v1/events/", "page")
    assert page["minimum"] == 1 and page["maximum"] == 999_999_999
    assert "404" in schema["paths"]["/api/v1/events/"]["get"]["responses"]
    client = personas["legal_office"].client()
    assert client.get("/api/v1/events/?page=1").status_code == 200
    past = client.get("/api/v1/events/?page=2")
    assert past.status_code == 404 and "页码超出范围" in _error_shape(past)["detail"]
    assert client.get("/api/v1/events/?page=0").status_code == 400
    assert client.get("/api/v1/events/?page=1000000000").status_code in (400, 404)


def test_max_score_and_hours_minimums(schema, personas, units):
    components = schema["components"]["schemas"]
    max_score = components["ExamCreateRequest"]["properties"]["max_score"]["anyOf"][0]
    hours = components["EventCreateRequest"]["properties"]["hours"]["anyOf"][0]
    assert max_score["minimum"] == 0.01 and hours["minimum"] == 0.01
    client = personas["legal_office"].client()
    exam = {"name": "满分", "year": 2026, "kind": "annual_law", "pass_mark": 0}
    assert client.post("/api/v1/exams/", {**exam, "max_score": 0}, format="json").status_code == 400
    assert client.post("/api/v1/exams/", {**exam, "max_score": 0.01}, format="json").status_code == 201
    event = {"title": "讲座", "kind": "lecture", "date": "2026-05-01", "organiser": "D"}
    assert client.post("/api/v1/events/", {**event, "hours": 0}, format="json").status_code == 400
    assert client.post("/api/v1/events/", {**event, "hours": "0.00"}, format="json").status_code == 400
    assert client.post("/api/v1/events/", {**event, "hours": "0.01"}, format="json").status_code == 201


def test_decimals_round_alike_and_the_pattern_says_what_text_is_accepted(schema, personas, units):
    pattern = schema["components"]["schemas"]["EventCreateRequest"]["properties"]["hours"]["anyOf"][1]["pattern"]
    client = personas["legal_office"].client()
    event = {"kind": "lecture", "date": "2026-05-01", "organiser": "D"}
    # a JSON number is rounded half up to two places; text with more places is refused, as the
    # pattern says
    assert client.post("/api/v1/events/", {**event, "title": "数", "hours": 1.005}, format="json").status_code == 201
    assert TrainingEvent.objects.get(title="数").hours == Decimal("1.01")
    assert not re.match(pattern, "1.005")
    assert client.post("/api/v1/events/", {**event, "title": "文", "hours": "1.005"}, format="json").status_code == 400
    for text in ("1.5", "2", "0.25"):
        assert re.match(pattern, text)
    for text in ("01.5", "1e2", " 1", "-1", "0"):
        assert not re.match(pattern, text), text
        assert client.post("/api/v1/events/", {**event, "title": "x", "hours": text}, format="json").status_code == 400


def test_the_token_endpoints_400_is_documented_in_the_error_shape(schema, personas, client):
    responses = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    wrong = client.post("/api/v1/auth/token/", {"username": "hr", "password": "wrong"}, content_type="application/json")
    assert wrong.status_code == 400 and _error_shape(wrong)["code"] == "invalid_credentials"
    missing = client.post("/api/v1/auth/token/", {"username": "hr"}, content_type="application/json")
    assert missing.status_code == 400 and "password" in _error_shape(missing)["errors"]


def test_an_exams_year_and_its_dates(personas, units):
    """A date left out defaults to the year's first or last day, never on the wrong side of the
    date that was given: schema-valid combinations are accepted."""
    client = personas["legal_office"].client()
    body = {"kind": "annual_law", "year": 2026}
    only_close = client.post("/api/v1/exams/", {**body, "name": "早截止", "closes_on": "2025-06-30"}, format="json")
    assert only_close.status_code == 201, only_close.content
    exam = Exam.objects.get(name="早截止")
    assert exam.opens_on <= exam.closes_on and str(exam.closes_on) == "2025-06-30"
    only_open = client.post("/api/v1/exams/", {**body, "name": "晚开考", "opens_on": "2027-02-01"}, format="json")
    assert only_open.status_code == 201, only_open.content
    exam = Exam.objects.get(name="晚开考")
    assert str(exam.opens_on) == "2027-02-01" and exam.closes_on >= exam.opens_on
    backwards = client.post("/api/v1/exams/", {**body, "name": "倒序", "opens_on": "2026-05-01",
                                               "closes_on": "2026-04-01"}, format="json")
    assert backwards.status_code == 400 and "不能晚于" in _error_shape(backwards)["detail"]


def test_business_rules_answer_a_documented_409(schema, personas, units):
    for path in ("/api/v1/exams/", "/api/v1/exams/{id}/remind/"):
        assert "409" in schema["paths"][path]["post"]["responses"], path
    client = personas["legal_office"].client()
    body = {"name": "学法用法考试", "year": 2026, "kind": "annual_law"}
    assert client.post("/api/v1/exams/", body, format="json").status_code == 201
    again = client.post("/api/v1/exams/", body, format="json")
    assert again.status_code == 409
    shape = _error_shape(again)
    assert shape["code"] == "conflict" and "已有同名考试" in shape["detail"] and "errors" in shape
    from django.utils import timezone

    closed = exam_create(name="去年的考试", year=timezone.localdate().year - 1, kind="annual_law")
    remind = client.post(f"/api/v1/exams/{closed.pk}/remind/", {}, format="json")
    assert remind.status_code == 409 and _error_shape(remind)["code"] == "conflict"


def test_date_bounds_and_an_empty_unit_code(schema, personas, units):
    date = schema["components"]["schemas"]["EventCreateRequest"]["properties"]["date"]
    assert re.match(date["pattern"], "2000-01-01") and re.match(date["pattern"], "2100-12-31")
    assert not re.match(date["pattern"], "1999-12-31") and not re.match(date["pattern"], "2101-01-01")
    client = personas["legal_office"].client()
    event = {"title": "讲座", "kind": "lecture", "hours": "1", "organiser": "D"}
    assert client.post("/api/v1/events/", {**event, "date": "2101-01-01"}, format="json").status_code == 400
    created = client.post("/api/v1/events/", {**event, "date": "2100-12-31"}, format="json")
    assert created.status_code == 201
    # the schema says a unit code has at least one character: "" is refused, null means the district
    organiser = schema["components"]["schemas"]["PatchedEventUpdateRequest"]["properties"]["organiser"]
    assert organiser["minLength"] == 1 and organiser["nullable"]
    pk = created.json()["id"]
    empty = client.patch(f"/api/v1/events/{pk}/", {"organiser": ""}, format="json")
    assert empty.status_code == 400 and "organiser" in _error_shape(empty)["errors"]
    assert TrainingEvent.objects.get(pk=pk).organiser.code == "D"
    assert client.patch(f"/api/v1/events/{pk}/", {"organiser": None}, format="json").status_code == 200


def test_deletes_that_a_rule_refuses_are_documented_409s(schema, personas, activity):
    for path in ("/api/v1/exams/{id}/", "/api/v1/events/{id}/"):
        assert "409" in schema["paths"][path]["delete"]["responses"], path
    client = personas["legal_office"].client()
    sat = client.delete(f"/api/v1/exams/{activity.exam.pk}/")
    assert sat.status_code == 409 and _error_shape(sat)["code"] == "conflict"
    attended = client.delete(f"/api/v1/events/{activity.events['a'].pk}/")
    assert attended.status_code == 409 and _error_shape(attended)["code"] == "conflict"


def test_the_participation_exam_id_bound(schema, personas, activity):
    exam = _parameter(schema, "/api/v1/stats/participation/", "exam")
    assert exam["maximum"] == 2**53
    client = personas["legal_office"].client()
    assert client.get(f"/api/v1/stats/participation/?exam={2**53}").status_code in (200, 404)
    assert client.get(f"/api/v1/stats/participation/?exam={2**53 + 1}").status_code == 400
