from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from roster.models import Staff
from training import rotation
from training.attendance import attendance_record
from training.models import Attendance, AttendanceSource, AttendanceStatus, TrainingEvent

pytestmark = pytest.mark.django_db

GENERIC = "或身份证号后 4 位不正确"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def today_event(staff):
    # known last four characters, so the tests can type them
    Staff.objects.filter(staff_no="0001").update(id_number_masked="450203********123X")
    Staff.objects.filter(staff_no="0002").update(id_number_masked="450203********5678")
    now = timezone.now()
    return TrainingEvent.objects.create(
        title="法治专题学习", kind="study_session", date=timezone.localdate(), hours=3,
        location="区政府三楼会议室",
        signin_opens_at=now - dt.timedelta(hours=1), signin_closes_at=now + dt.timedelta(hours=2),
    )


def url(event) -> str:
    """The address a phone reads from the projected code now (with the period's code)."""
    base = reverse("training:signin", args=[event.signin_token])
    return f"{base}?c={rotation.current_code(event)}" if event.signin_rotates else base


def post(client, event, staff_no, last4, address="10.0.0.1"):
    return client.post(url(event), {"staff_no": staff_no, "id_last4": last4}, REMOTE_ADDR=address)


def test_page_is_a_plain_mobile_form_at_the_token_url(today_event):
    response = Client().get(url(today_event))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="viewport"' in body and "法治专题学习" in body
    assert 'name="who"' in body and 'name="id_last4"' in body and "csrfmiddlewaretoken" in body
    # the token URL never leaves the site in a Referer; same-origin (not no-referrer) keeps the
    # form's Origin header, which the CSRF check needs in a real browser
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert len(today_event.signin_token) >= 32


def test_page_discloses_no_staff_data(today_event):
    body = Client().get(url(today_event)).content.decode()
    for name in ("张三", "李四", "王五", "0001", "1380000"):
        assert name not in body


def test_correct_details_sign_in_as_present_from_qr(today_event):
    response = post(Client(), today_event, "0001", "123x")
    assert response.status_code == 200
    body = response.content.decode()
    assert "签到成功" in body and "张*" in body and "张三" not in body
    record = Attendance.objects.get(event=today_event)
    assert (record.staff.staff_no, record.status, record.source) == ("0001", "present", AttendanceSource.QR)
    assert record.signed_in_at is not None and record.unit.code == "A"


def test_second_sign_in_is_harmless(today_event):
    client = Client()
    post(client, today_event, "0001", "123X")
    first = Attendance.objects.get(event=today_event).signed_in_at
    response = post(client, today_event, "0001", "123X")
    assert response.status_code == 200 and "已签到" in response.content.decode()
    assert Attendance.objects.filter(event=today_event).count() == 1
    assert Attendance.objects.get(event=today_event).signed_in_at == first


def test_wrong_last4_gives_the_generic_message_and_records_nothing(today_event):
    response = post(Client(), today_event, "0001", "1234")
    assert response.status_code == 400 and GENERIC in response.content.decode()
    assert not Attendance.objects.exists()


def test_unknown_staff_no_gives_the_same_message_as_a_wrong_last4(today_event):
    wrong = post(Client(), today_event, "0001", "0000")
    unknown = post(Client(), today_event, "9999", "0000", address="10.0.0.2")
    assert wrong.status_code == unknown.status_code == 400

    def page(response, typed):
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode()).replace(typed, "X")

    assert page(wrong, "0001") == page(unknown, "9999")


def test_staff_who_left_cannot_sign_in(today_event):
    Staff.objects.filter(staff_no="0001").update(is_active=False)
    response = post(Client(), today_event, "0001", "123X")
    assert response.status_code == 400 and GENERIC in response.content.decode()


def test_malformed_last4_asks_for_four_characters(today_event):
    response = post(Client(), today_event, "0001", "12")
    assert response.status_code == 400 and "后 4 位" in response.content.decode()


@pytest.mark.parametrize(
    ("opens", "closes", "word"),
    [(1, 2, "尚未开始"), (-3, -1, "已结束")],
)
def test_sign_in_works_only_inside_the_window(today_event, opens, closes, word):
    now = timezone.now()
    TrainingEvent.objects.filter(pk=today_event.pk).update(
        signin_opens_at=now + dt.timedelta(hours=opens), signin_closes_at=now + dt.timedelta(hours=closes)
    )
    get = Client().get(url(today_event))
    assert word in get.content.decode() and 'name="staff_no"' not in get.content.decode()
    response = post(Client(), today_event, "0001", "123X")
    assert response.status_code == 403 and word in response.content.decode()
    assert not Attendance.objects.exists()


def test_without_a_window_sign_in_is_open_on_the_event_day_only(staff):
    Staff.objects.filter(staff_no="0002").update(id_number_masked="450203********5678")
    today = timezone.localdate()
    event = TrainingEvent.objects.create(title="今天", kind="lecture", date=today, hours=2)
    yesterday = TrainingEvent.objects.create(title="昨天", kind="lecture", date=today - dt.timedelta(days=1), hours=2)
    assert post(Client(), event, "0002", "5678").status_code == 200
    assert post(Client(), yesterday, "0002", "5678").status_code == 403


def test_too_many_failures_from_one_client_block_it_even_with_correct_details(today_event, settings):
    settings.TRAINING_SIGNIN_MAX_FAILURES = 3
    client = Client()
    for last4 in ("0000", "1111", "2222"):
        assert post(client, today_event, "0002", last4, address="10.9.9.9").status_code == 400
    blocked = post(client, today_event, "0001", "123X", address="10.9.9.9")
    assert blocked.status_code == 429 and "尝试次数过多" in blocked.content.decode()
    assert not Attendance.objects.exists()
    # another client is not affected
    assert post(Client(), today_event, "0001", "123X", address="10.9.9.8").status_code == 200


def test_successful_sign_ins_from_one_address_are_not_limited(today_event, settings):
    settings.TRAINING_SIGNIN_MAX_FAILURES = 2
    for _ in range(5):
        assert post(Client(), today_event, "0001", "123X", address="10.1.1.1").status_code == 200


def test_guessing_one_staff_no_from_many_clients_is_limited(today_event, settings):
    settings.TRAINING_SIGNIN_MAX_FAILURES_PER_STAFF_NO = 3
    for i in range(3):
        post(Client(), today_event, "0002", f"000{i}", address=f"10.2.0.{i}")
    response = post(Client(), today_event, "0002", "5678", address="10.2.0.99")
    assert response.status_code == 429
    assert not Attendance.objects.exists()


def test_unknown_staff_no_is_limited_like_a_real_one(today_event, settings):
    settings.TRAINING_SIGNIN_MAX_FAILURES_PER_STAFF_NO = 2
    statuses = [post(Client(), today_event, "9999", "0000", address=f"10.3.0.{i}").status_code for i in range(3)]
    assert statuses == [400, 400, 429]


def test_post_without_csrf_token_is_refused(today_event):
    client = Client(enforce_csrf_checks=True)
    response = post(client, today_event, "0001", "123X")
    assert response.status_code == 403
    assert not Attendance.objects.exists()


def test_post_with_csrf_token_from_the_page_works(today_event):
    client = Client(enforce_csrf_checks=True)
    client.get(url(today_event))
    token = client.cookies["csrftoken"].value
    response = client.post(url(today_event), {"staff_no": "0001", "id_last4": "123X", "csrfmiddlewaretoken": token})
    assert response.status_code == 200 and Attendance.objects.count() == 1


def test_unknown_token_is_not_found(today_event):
    response = Client().get(reverse("training:signin", args=["not-a-real-token"]))
    assert response.status_code == 404 and "签到链接无效" in response.content.decode()


def test_person_marked_excused_who_signs_in_becomes_present(today_event):
    staff_id = Staff.objects.get(staff_no="0001").pk
    attendance_record(event=today_event, staff_ids=[staff_id], status=AttendanceStatus.EXCUSED)
    post(Client(), today_event, "0001", "123X")
    assert Attendance.objects.get(event=today_event).status == AttendanceStatus.PRESENT


def test_qr_images_are_png_and_svg_of_the_absolute_sign_in_url(today_event, monkeypatch):
    import training.views as views

    TrainingEvent.objects.filter(pk=today_event.pk).update(signin_rotates=False)  # an online event
    seen = []
    monkeypatch.setattr(views, "qr_svg", lambda u: seen.append(u) or b"<svg/>")
    png = Client().get(reverse("training:signin_qr_png", args=[today_event.signin_token]))
    svg = Client().get(reverse("training:signin_qr_svg", args=[today_event.signin_token]))
    assert png.status_code == 200 and png["Content-Type"] == "image/png" and png.content[:4] == b"\x89PNG"
    assert svg["Content-Type"] == "image/svg+xml"
    assert seen == [f"http://testserver/signin/{today_event.signin_token}/"]


def test_real_svg_is_an_svg_document(today_event):
    TrainingEvent.objects.filter(pk=today_event.pk).update(signin_rotates=False)
    svg = Client().get(reverse("training:signin_qr_svg", args=[today_event.signin_token]))
    assert b"<svg" in svg.content


def test_qr_image_of_an_unknown_token_is_not_found(today_event):
    assert Client().get(reverse("training:signin_qr_png", args=["nope"])).status_code == 404


# --- rotating codes (the default for events at a venue) -------------------------------------


def base_url(event) -> str:
    return reverse("training:signin", args=[event.signin_token])


def with_code(event, periods_ago: int) -> str:
    return f"{base_url(event)}?c={rotation.code_for(event, rotation.period_of() - periods_ago)}"


def test_a_code_is_accepted_for_two_periods_and_refused_after(today_event):
    assert today_event.signin_rotates
    for age in (0, 1):
        assert Client().get(with_code(today_event, age)).status_code == 200
    stale = Client().get(with_code(today_event, 2))
    assert stale.status_code == 403 and "二维码已过期" in stale.content.decode()
    assert Client().get(base_url(today_event)).status_code == 403  # the bare address is not enough
    assert Client().get(base_url(today_event) + "?c=0123456789ab").status_code == 403
    posted = Client().post(with_code(today_event, 2), {"who": "0001", "id_last4": "123X"})
    assert posted.status_code == 403 and not Attendance.objects.exists()


def test_a_code_of_one_event_does_not_open_another(today_event):
    other = TrainingEvent.objects.create(title="另一场", kind="lecture", date=today_event.date, hours=1)
    code = rotation.current_code(today_event)
    assert Client().get(f"{base_url(other)}?c={code}").status_code == 403


def test_a_form_opened_with_a_fresh_code_may_be_sent_after_the_code_changed(today_event):
    client = Client()
    page = client.get(url(today_event))
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.content.decode()).group(1)
    # the code on the screen has moved on; the phone posts to the address it opened, two periods old
    late = client.post(with_code(today_event, 3), {"who": "0001", "id_last4": "123X", "ticket": ticket})
    assert late.status_code == 200 and "签到成功" in late.content.decode()
    other = TrainingEvent.objects.create(title="另一场", kind="lecture", date=today_event.date, hours=1)
    forged = client.post(base_url(other), {"who": "0002", "id_last4": "5678", "ticket": ticket})
    assert forged.status_code == 403


def test_the_organiser_can_turn_rotation_off_for_an_online_event(today_event):
    TrainingEvent.objects.filter(pk=today_event.pk).update(signin_rotates=False)
    response = Client().post(base_url(today_event), {"who": "0001", "id_last4": "123X"})
    assert response.status_code == 200 and "签到成功" in response.content.decode()


def test_a_person_signs_in_by_name_and_last_four_in_full_width(today_event):
    name = Staff.objects.get(staff_no="0002").name
    response = Client().post(url(today_event), {"who": f" {name} ", "id_last4": "５６７８"})
    assert response.status_code == 200 and "签到成功" in response.content.decode()
    assert Attendance.objects.get().staff.staff_no == "0002"
    full_width_no = "０００１"
    assert "签到成功" in Client().post(url(today_event), {"who": full_width_no, "id_last4": "123ｘ"}).content.decode()


def test_a_name_shared_with_the_same_last_four_asks_for_the_staff_no(today_event):
    first = Staff.objects.get(staff_no="0001")
    Staff.objects.filter(staff_no="0002").update(name=first.name, id_number_masked="450203********123X")
    response = Client().post(url(today_event), {"who": first.name, "id_last4": "123X"})
    assert response.status_code == 400 and "请改为输入工号" in response.content.decode()
    assert not Attendance.objects.exists()


def test_a_rotating_events_code_is_drawn_only_for_its_organiser(today_event, units):
    from access.services import user_role_set
    from tests.helpers import PASSWORD

    assert Client().get(reverse("training:signin_qr_svg", args=[today_event.signin_token])).status_code == 404
    office, _ = user_role_set(username="legal", role="legal_office", password=PASSWORD)
    client = Client()
    client.force_login(office.user)
    page = client.get(f"/events/{today_event.pk}/qr/")
    body = page.content.decode()
    assert page.status_code == 200 and today_event.signin_token not in body and 'data-refresh-seconds="30"' in body
    code = client.get(f"/events/{today_event.pk}/qr/code.svg")
    assert code.status_code == 200 and code["Content-Type"] == "image/svg+xml" and b"<svg" in code.content
    liaison, _ = user_role_set(username="liaison", role="liaison", unit_code="A", password=PASSWORD)
    other = Client()
    other.force_login(liaison.user)
    assert other.get(f"/events/{today_event.pk}/qr/code.svg").status_code == 404
