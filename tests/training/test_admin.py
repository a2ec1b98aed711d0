from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from roster.models import Staff
from training.attendance import attendance_record
from training.models import Attendance, TrainingEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(staff):
    made = []
    for i in range(5):
        event = TrainingEvent.objects.create(title=f"讲座{i}", kind="lecture", date=dt.date(2024, 3, i + 1), hours=2)
        attendance_record(event=event, staff_ids=list(Staff.objects.values_list("id", flat=True)), status="present")
        made.append(event)
    return made


def test_event_list_shows_counts_in_chinese_with_fixed_queries(admin_client, events, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:training_trainingevent_changelist"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "培训活动" in body and "参训人数" in body and "签到页" in body


def test_event_page_has_the_qr_image_and_the_attendance_inline(admin_client, events):
    event = events[0]
    response = admin_client.get(reverse("admin:training_trainingevent_change", args=[event.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("training:signin_qr_svg", args=[event.signin_token]) in body
    assert reverse("training:signin_qr_png", args=[event.signin_token]) in body
    assert "出勤记录" in body and "张三" in body


def test_attendance_list_filters_by_event_unit_and_status(admin_client, events, units, django_assert_max_num_queries):
    url = reverse("admin:training_attendance_changelist")
    with django_assert_max_num_queries(14):
        response = admin_client.get(url, {"event__id__exact": events[0].pk, "unit__id__exact": units["A"].pk,
                                          "status__exact": "present"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == Attendance.objects.filter(
        event=events[0], unit=units["A"], status="present").count() > 0
    body = response.content.decode()
    assert "按 出勤情况" in body or "出勤情况" in body


def test_rotating_the_token_changes_the_sign_in_url(admin_client, events):
    old = events[0].signin_token
    admin_client.post(reverse("admin:training_trainingevent_changelist"),
                      {"action": "rotate_token", "_selected_action": [events[0].pk]})
    events[0].refresh_from_db()
    assert events[0].signin_token != old


def test_rotating_many_tokens_takes_a_fixed_number_of_queries(admin_client, events, django_assert_max_num_queries):
    old = dict(TrainingEvent.objects.values_list("pk", "signin_token"))
    url = reverse("admin:training_trainingevent_changelist")
    # one UPDATE for all the selected events, not one per event
    with django_assert_max_num_queries(8):
        admin_client.post(url, {"action": "rotate_token", "_selected_action": [e.pk for e in events]})
    new = dict(TrainingEvent.objects.values_list("pk", "signin_token"))
    assert all(new[pk] != token for pk, token in old.items()) and len(set(new.values())) == len(events)


@pytest.fixture
def big_event(units):
    Staff.objects.bulk_create([
        Staff(staff_no=f"9{i:04d}", name=f"人员{i}", id_number_cipher="x", id_number_hash=f"h{i}",
              id_number_masked="450203********0000", unit=units["A"])
        for i in range(600)
    ])
    event = TrainingEvent.objects.create(title="大型专题学习", kind="study_session", date=dt.date(2024, 4, 1), hours=3)
    attendance_record(event=event, staff_ids=list(Staff.objects.values_list("id", flat=True)), status="present")
    return event


def test_event_with_many_attendees_shows_200_and_still_saves(admin_client, big_event, settings):
    url = reverse("admin:training_trainingevent_change", args=[big_event.pk])
    page = admin_client.get(url)
    formset = page.context["inline_admin_formsets"][0].formset
    assert len(formset.forms) == 200
    assert "全部 600 条出勤记录" in page.content.decode()
    form = page.context["adminform"].form
    data = {name: field.value() if field.value() is not None else "" for name, field in
            ((n, form[n]) for n in form.fields)}
    data["audience_units"] = []
    for key, value in formset.management_form.initial.items():
        data[f"{formset.prefix}-{key}"] = value
    for i, inline_form in enumerate(formset.forms):
        data[f"{formset.prefix}-{i}-id"] = inline_form.instance.pk
        data[f"{formset.prefix}-{i}-event"] = big_event.pk
    data["title"] = "大型专题学习（改）"
    assert len(data) < settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    big_event.refresh_from_db()
    assert big_event.title == "大型专题学习（改）"
    assert Attendance.objects.filter(event=big_event).count() == 600


def test_status_actions_change_status_through_the_service(admin_client, events):
    chosen = list(Attendance.objects.filter(event=events[0]).values_list("pk", flat=True)[:2])
    admin_client.post(reverse("admin:training_attendance_changelist"),
                      {"action": "mark_excused", "_selected_action": chosen})
    assert set(Attendance.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {"excused"}


def test_a_status_action_over_many_events_takes_a_fixed_number_of_queries(
    admin_client, events, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    # two records of each of the five events, filtered on the status being changed
    chosen = [pk for e in events for pk in Attendance.objects.filter(event=e).values_list("pk", flat=True)[:2]]
    url = reverse("admin:training_attendance_changelist") + "?status__exact=present"
    with django_capture_on_commit_callbacks() as announced, django_assert_max_num_queries(13):
        admin_client.post(url, {"action": "mark_absent", "_selected_action": chosen})
    assert set(Attendance.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {"absent"}
    assert Attendance.objects.filter(status="absent").count() == len(chosen) == 10
    assert len(announced) == 1  # the events' one year


def test_the_admin_refuses_an_event_date_outside_2000_to_2100_as_the_service_does(admin_client, units):
    url = reverse("admin:training_trainingevent_add")
    form = admin_client.get(url).context["adminform"].form
    data = {name: field.value() if field.value() is not None else "" for name, field in ((n, form[n]) for n in form.fields)}
    data.update({"title": "年份写错的讲座", "kind": "lecture", "date": "9999-12-31", "hours": "2", "audience": "district",
                 "audience_units": []})
    for key in ("attendances-TOTAL_FORMS", "attendances-INITIAL_FORMS"):
        data[key] = 0
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "年份应在 2000 到 2100 之间" in response.content.decode()
    assert not TrainingEvent.objects.filter(title="年份写错的讲座").exists()
    data["date"] = "2026-03-01"
    assert admin_client.post(url, data).status_code == 302
    assert TrainingEvent.objects.filter(title="年份写错的讲座").exists()


def test_kinds_admin_keeps_codes_and_kinds_in_use(admin_client, events):
    from training.models import EventKind

    page = admin_client.get("/admin/training/eventkind/")
    assert page.status_code == 200 and "述法" in page.content.decode() and "出庭应诉" in page.content.decode()
    used = EventKind.objects.get(code=events[0].kind)
    change = admin_client.get(f"/admin/training/eventkind/{used.pk}/change/").content.decode()
    assert 'name="code"' not in change  # the code is read-only once saved
    assert admin_client.post(f"/admin/training/eventkind/{used.pk}/delete/", {"post": "yes"}).status_code == 403
    assert EventKind.objects.filter(pk=used.pk).exists()
    added = admin_client.post("/admin/training/eventkind/add/", {
        "code": "law_quiz", "name": "法律知识竞赛", "counts_hours": "on", "default_hours": "2", "sort_order": "90"})
    assert added.status_code == 302 and EventKind.objects.filter(code="law_quiz").exists()


def test_targets_admin_stores_an_empty_category_as_the_default(admin_client, db):
    from training.models import TrainingTarget

    response = admin_client.post("/admin/training/trainingtarget/add/", {"year": "2024", "category": "", "hours": "30"})
    assert response.status_code == 302
    assert TrainingTarget.objects.get(year=2024).category is None
    assert "默认" in admin_client.get("/admin/training/trainingtarget/").content.decode()
