from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from roster.models import Staff
from training.models import Attendance, TrainingEvent
from training.services import attendance_record

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
