"""Issue 12, the paths the other hostile-input tests leave out.

- Control characters already stored (a legacy row, a direct database edit) in a person's name
  and position, a unit's name, an exam's name and an event's title: every page and every API
  answer renders the text without them (``config.text.ControlCharsOutMiddleware``,
  ``api.renderers.CleanJSONRenderer``), never a 500.
- Control characters coming in through the certificate register, the web event form and the
  admin's exam and event forms are refused in Chinese, naming the field (and the row).
- No answer that mentions an event gives its sign-in token to a caller who does not run it:
  the API's lists, records and reports, and the pages.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from certificates.imports import certificate_import_create, certificate_import_run
from exams.models import Exam
from roster.models import Staff, Unit
from tests.helpers import csv_bytes
from training.models import TrainingEvent

pytestmark = pytest.mark.django_db

BELL, NEL, ESC = "\u0007", "\u0085", "\u001b"
CONTROL = (BELL, NEL, ESC, "\u0000", "\u007f")


@pytest.fixture
def stored(activity):
    Staff.objects.filter(staff_no="0004").update(name=f"张{BELL}三", position=f"科{NEL}员")
    Unit.objects.filter(code="A").update(name=f"财政{ESC}局")
    TrainingEvent.objects.filter(pk=activity.events["a"].pk).update(title=f"合同{BELL}讲座")
    Exam.objects.filter(pk=activity.exam.pk).update(name=f"学法{NEL}考试")
    return activity


def _clean(text: str) -> bool:
    return not any(c in text for c in CONTROL)


def _client(persona) -> Client:
    client = Client()
    client.force_login(persona.user)
    return client


def test_every_page_renders_stored_control_characters_without_them(personas, stored):
    legal, hr = _client(personas["legal_office"]), _client(personas["hr"])
    exam, event = stored.exam.pk, stored.events["a"].pk
    pages = [
        (legal, "/units/A/", "财政局"), (legal, "/exams/", "学法考试"), (legal, f"/exams/{exam}/", "学法考试"),
        (legal, f"/exams/{exam}/not-sat/A/", "张三"), (legal, "/events/", "合同讲座"),
        (legal, f"/events/{event}/", "合同讲座"), (legal, "/staff/0004/", "张三"),
        (hr, "/people/?q=0004", "张三"), (hr, "/people/0004/", "科员"),
    ]
    for client, path, shown in pages:
        response = client.get(path)
        body = response.content.decode()
        assert response.status_code == 200, path
        assert _clean(body), path
        assert shown in body, (path, shown)


def test_every_api_answer_renders_stored_control_characters_without_them(personas, stored):
    legal, hr = personas["legal_office"].client(), personas["hr"].client()
    exam = stored.exam.pk
    answers = [
        (hr, "/api/v1/staff/?unit=A", "张三"), (hr, "/api/v1/staff/0004/", "科员"), (hr, "/api/v1/units/A/", "财政局"),
        (legal, f"/api/v1/exams/{exam}/", "学法考试"), (legal, f"/api/v1/exams/{exam}/not-sat/?unit=A", "张三"),
        (legal, "/api/v1/events/", "合同讲座"), (legal, "/api/v1/staff/0004/record/", "张三"),
        (legal, f"/api/v1/reports/annual/{stored.year}/", "财政局"),
    ]
    for client, path, shown in answers:
        response = client.get(path)
        assert response.status_code == 200, (path, response.content[:300])
        # neither raw nor as a JSON escape (\u0007)
        decoded = json.dumps(response.json(), ensure_ascii=False)
        assert _clean(decoded) and "\\u00" not in response.content.decode(), path
        assert shown in decoded, (path, shown)


def test_a_newline_in_stored_multiline_text_is_kept_in_answers():
    from config.text import strip_controls_deep

    assert strip_controls_deep({"a": ["第一行\n第二行\t", ("x\u0007",)]}) == {"a": ["第一行\n第二行\t", ("x",)]}


# --- coming in ----------------------------------------------------------------------------

CERT_HEADER = ["姓名", "工号", "证件号", "证件类型", "发证日期", "有效期至", "发证机关"]


def test_a_certificate_register_row_with_a_control_character_names_row_and_column(district):
    person, other = district.a[0], district.a[1]
    data = csv_bytes([[person.name, person.staff_no, "证0001", "执法证", "2024-01-01", "2030-01-01", f"区{BELL}政府"],
                      [other.name, other.staff_no, "证0002", "执法证", "2024-01-01", "2030-01-01", "区政府"]],
                     header=CERT_HEADER)
    result = certificate_import_run(record=certificate_import_create(file=data, file_name="证件.csv"))
    problems = [e for e in result.errors if "控制字符" in e["message"]]
    assert problems and problems[0]["row"] == 2 and problems[0]["column"] == "发证机关", result.errors
    # the import's own rule for a bad cell: that row refused, the good row imported
    assert result.created == 1 and result.invalid == 1
    from certificates.models import Certificate

    assert list(Certificate.objects.values_list("number", flat=True)) == ["证0002"]


def test_the_web_event_form_refuses_a_control_character(personas, units):
    response = _client(personas["legal_office"]).post(
        "/events/new/", {"title": f"讲座{BELL}", "kind": "lecture", "date": "2026-05-01", "hours": "2",
                         "signin_rotates": "on"})
    assert response.status_code == 200 and "控制字符" in response.content.decode()
    assert not TrainingEvent.objects.exists()


@pytest.fixture
def superuser_client(db):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_refuses_a_control_character_in_an_exam_and_an_event(superuser_client, activity):
    exam = activity.exam
    page = superuser_client.get(f"/admin/exams/exam/{exam.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["name"] = f"改名{ESC}考试"
    response = superuser_client.post(f"/admin/exams/exam/{exam.pk}/change/", data)
    assert response.status_code == 200 and "控制字符" in response.content.decode()
    assert Exam.objects.get(pk=exam.pk).name == exam.name

    event = activity.events["d"]
    page = superuser_client.get(f"/admin/training/trainingevent/{event.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items() if not isinstance(v, list)}
    for inline in page.context["inline_admin_formsets"]:  # the attendance inline: left as it is
        data.update({f"{inline.formset.prefix}-TOTAL_FORMS": 0, f"{inline.formset.prefix}-INITIAL_FORMS": 0})
    data["title"] = f"讲{NEL}座"  # in the middle: a trailing NEL is whitespace the form strips
    response = superuser_client.post(f"/admin/training/trainingevent/{event.pk}/change/", data)
    assert response.status_code == 200 and "控制字符" in response.content.decode()
    assert TrainingEvent.objects.get(pk=event.pk).title == event.title


# --- sign-in tokens -----------------------------------------------------------------------


def test_no_answer_mentioning_an_event_gives_its_token_to_a_caller_who_does_not_run_it(personas, staff_persona,
                                                                                      activity, district):
    """liaison_b runs only B's event; the staff person (A's 0001) attended A's event. Neither
    may see the token of A's event or of the district's, in any answer or page."""
    hidden = [activity.events["a"].signin_token, activity.events["d"].signin_token]
    assert all(hidden)
    event_a = activity.events["a"].pk
    api = [
        (personas["liaison_b"], "/api/v1/events/"),
        (personas["liaison_b"], f"/api/v1/events/{event_a}/attendance/"),
        (personas["liaison_b"], f"/api/v1/staff/{district.b[0].staff_no}/record/"),
        (personas["liaison_b"], f"/api/v1/staff/{district.b[0].staff_no}/record/?format=xlsx"),
        (personas["liaison_b"], f"/api/v1/units/B/learning-file/{activity.year}/"),
        (personas["liaison_b"], f"/api/v1/reports/annual/{activity.year}/"),
        (personas["liaison_b"], "/api/v1/stats/participation/"),
        (personas["viewer"], f"/api/v1/reports/annual/{activity.year}/"),
        (staff_persona, "/api/v1/me/record/"),
        (staff_persona, "/api/v1/me/record/?format=docx"),
    ]
    for persona, path in api:
        response = persona.client().get(path)
        assert response.status_code in (200, 404), (persona.name, path, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        for token in hidden:
            assert token.encode() not in body, (persona.name, path)
    pages = [
        (personas["liaison_b"], "/events/"), (personas["liaison_b"], f"/events/{event_a}/"),
        (personas["liaison_b"], f"/events/{activity.events['d'].pk}/"), (personas["liaison_b"], "/units/B/"),
        (personas["liaison_b"], f"/staff/{district.b[0].staff_no}/"), (staff_persona, "/me/"),
        (personas["liaison_b"], f"/events/{event_a}/qr/"), (personas["liaison_b"], f"/events/{event_a}/qr/code.svg"),
    ]
    for persona, path in pages:
        response = _client(persona).get(path, follow=True)
        assert response.status_code in (200, 403, 404), (persona.name, path)
        for token in hidden:
            assert token.encode() not in response.content, (persona.name, path)
