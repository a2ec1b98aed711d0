"""An event's sign-in URL carries its token: it is given only to callers who run the event
(``scope.events_managed``); everyone else reads ``null``, in the API list and on the pages."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def urls(persona) -> dict[str, str | None]:
    response = persona.client().get("/api/v1/events/")
    assert response.status_code == 200, response.content
    return {e["title"]: e["signin_url"] for e in response.json()["results"]}


def test_a_liaison_gets_the_signin_url_of_their_own_units_events_only(personas, activity):
    seen = urls(personas["liaison_b"])
    token = activity.events["b"].signin_token
    assert seen["司法局旁听庭审"].endswith(f"/signin/{token}/") or token in seen["司法局旁听庭审"]
    # the lecture A runs and the district's study session: readable, but not theirs to run
    assert seen["财政局合同起草讲座"] is None and seen["全区法治专题学习"] is None
    body = personas["liaison_b"].client().get("/api/v1/events/").content.decode()
    assert activity.events["a"].signin_token not in body and activity.events["d"].signin_token not in body


def test_the_legal_office_gets_every_signin_url(personas, activity):
    assert all(url for url in urls(personas["legal_office"]).values())


@pytest.mark.parametrize("role", ["viewer", "hr"])
def test_roles_that_run_no_event_get_null(role, personas, activity):
    response = personas[role].client().get("/api/v1/events/")
    if response.status_code == 200:
        assert all(e["signin_url"] is None for e in response.json()["results"])
        for event in activity.events.values():
            assert event.signin_token not in response.content.decode()


def test_the_list_query_count_does_not_grow_with_the_annotation(personas, activity, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        personas["liaison_b"].client().get("/api/v1/events/")


def test_event_pages_show_the_signin_url_only_to_those_who_run_the_event(personas, activity):
    client = Client()
    client.force_login(personas["liaison_b"].user)
    own = client.get(f"/events/{activity.events['b'].pk}/")
    assert own.status_code == 200 and activity.events["b"].signin_token in own.content.decode()
    other = client.get(f"/events/{activity.events['a'].pk}/")
    assert other.status_code == 200 and activity.events["a"].signin_token not in other.content.decode()
    assert client.get(f"/events/{activity.events['a'].pk}/qr/").status_code == 404
