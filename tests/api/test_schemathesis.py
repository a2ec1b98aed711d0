"""Schemathesis against the WSGI app, from the app's own OpenAPI schema, authenticated as a
liaison, as hr and as the legal-affairs office (who reaches the exam, training and report
endpoints that hr may not): no server errors, no answer that contradicts the schema (status codes,
content types, headers, bodies), schema-invalid input rejected, undeclared methods refused
with 405, authentication enforced.

``positive_data_acceptance`` is left out on purpose: the schema types the input, but some
well-typed input is still refused by the rules of the services (an ID number with a wrong
check digit, an unknown unit code, a staff number already taken) with a 400 naming the problem.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from access.models import UserRole

# Django's WSGI handler without config.wsgi's start-up guards (the key canary reads the
# database, which collection may not touch; tests/ops covers the guard itself)
application = get_wsgi_application()

pytestmark = pytest.mark.django_db


# Loaded at collection from the WSGI app (the schema view touches no database). Schemathesis's
# lazy `from_fixture` loader does not work with pytest 9.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


def _lost_on_the_wire(value) -> bool:
    # None and [] leave the field out; a list repeats it; Werkzeug writes an empty value without
    # the line break before the next boundary, so Django's parser drops the field (a browser's
    # or `requests`' empty field is refused: see test_security); "true" is exactly how a form
    # sends the boolean true
    return value is None or value == "" or isinstance(value, (list, dict)) or (
        isinstance(value, str) and value.lower() in ("true", "false")
    )


MULTIPART_ONLY = ("/roster/syncs/", "/results/", "/certificates/imports/")
# a form with a file, or a JSON body (a sign-in sheet or a list; an exemptions file or one person)
FILE_OR_JSON = ("/attendance/", "/exemptions/")


@schema.hook("filter_body")
def _only_forms_that_survive_encoding(context, body) -> bool:
    """Multipart form values are plain strings. Some "schema-violating" values Schemathesis
    draws for a form arrive at the server as valid input (left out, or spelled like a valid
    value); they test nothing, so they are not generated. Everything else is. (Attendance
    takes a form with a file or a JSON list, exemptions a file or one person: a body with a file
    is the form.)"""
    path = context.operation.path if context.operation is not None else ""
    multipart = path.endswith(MULTIPART_ONLY) or (
        path.endswith(FILE_OR_JSON) and isinstance(body, dict) and "file" in body
    )
    return not (multipart and isinstance(body, dict) and any(_lost_on_the_wire(v) for v in body.values()))


@pytest.fixture(autouse=True)
def _world(personas, district, activity):
    # many requests in a short time: the personas are exempt from the rate limits here
    UserRole.objects.filter(user__username__in=["hr", "liaison_a", "legal"]).update(rate_limit_exempt=True)
    # Requests go straight to the WSGI app, whose request_finished signal would close the test
    # transaction's connection; Django's own test client unhooks it the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)

SETTINGS = settings(
    # SCHEMATHESIS_MAX_EXAMPLES=500 for a longer hunt
    max_examples=int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@SETTINGS
def test_api_as_hr_conforms_to_its_schema(case, personas):
    case.call_and_validate(headers=personas["hr"].headers, excluded_checks=[positive_data_acceptance])


@schema.parametrize()
@SETTINGS
def test_api_as_liaison_conforms_to_its_schema(case, personas):
    case.call_and_validate(headers=personas["liaison_a"].headers, excluded_checks=[positive_data_acceptance])


@schema.parametrize()
@SETTINGS
def test_api_as_legal_office_conforms_to_its_schema(case, personas):
    case.call_and_validate(headers=personas["legal_office"].headers, excluded_checks=[positive_data_acceptance])
