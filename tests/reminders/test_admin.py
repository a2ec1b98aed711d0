"""The admin: the outbox read-only with the body as sent; a robot's URL and secret typed in,
sealed, and never shown back (the host only)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reminders.channels import unit_channel_credentials
from reminders.models import ReminderMessage, UnitChannel
from reminders.not_sat import remind_not_sat
from roster.models import Unit

pytestmark = pytest.mark.django_db

URL = "https://oapi.dingtalk.com/robot/send?access_token=ADMIN-TOKEN-123"


def test_the_outbox_pages_load_and_show_the_body_as_sent(admin_client, world, smtp):
    remind_not_sat(exam_id=world.exam.pk)
    row = ReminderMessage.objects.get(unit__code="D")
    for page in (reverse("admin:reminders_remindermessage_changelist"),
                 reverse("admin:reminders_unitchannel_changelist"),
                 reverse("admin:reminders_reminderjob_changelist"),
                 reverse("admin:reminders_unitchannel_add")):
        assert admin_client.get(page).status_code == 200, page
    detail = admin_client.get(reverse("admin:reminders_remindermessage_change", args=[row.pk])).content.decode()
    assert "测试区财政局：3 人" in detail and "已发送" in detail
    listing = admin_client.get(reverse("admin:reminders_unitchannel_changelist")).content.decode()
    assert "127.0.0.1" in listing and "TOKEN-A" not in listing


def test_a_robot_added_in_the_admin_is_sealed_and_shown_as_its_host(admin_client, units):
    response = admin_client.post(reverse("admin:reminders_unitchannel_add"), {
        "unit": Unit.objects.get(code="B").pk, "channel": "dingtalk", "url": URL, "secret": "SECadmin1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    robot = UnitChannel.objects.get()
    assert robot.host == "oapi.dingtalk.com" and unit_channel_credentials(robot) == (URL, "SECadmin1")
    page = admin_client.get(reverse("admin:reminders_unitchannel_change", args=[robot.pk])).content.decode()
    assert "ADMIN-TOKEN-123" not in page and "SECadmin1" not in page
    # saved again with the fields left empty: the URL and the secret stay
    response = admin_client.post(reverse("admin:reminders_unitchannel_change", args=[robot.pk]), {"url": "", "secret": ""})
    assert response.status_code == 302
    assert unit_channel_credentials(UnitChannel.objects.get()) == (URL, "SECadmin1")
    refused = admin_client.post(reverse("admin:reminders_unitchannel_add"), {
        "unit": Unit.objects.get(code="A").pk, "channel": "wecom", "url": "gopher://x/"})
    assert refused.status_code == 200 and "只接受 http 或 https" in refused.content.decode()
