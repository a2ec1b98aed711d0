"""The channels on the wire: the DingTalk signature as DingTalk documents it, and what counts as
accepted (HTTP 200 with errcode 0) against the local robot server."""

from __future__ import annotations

import pytest

from reminders.transports import ChannelError, dingtalk_sign, dingtalk_signed_url, send_dingtalk, send_wecom

from .receivers import ERRCODE, HANG, HTTP_500


def test_the_dingtalk_signature_matches_an_independent_computation():
    # printf '1700000000000\nSECabc123' | openssl dgst -sha256 -hmac 'SECabc123' -binary | base64
    expected = "N5P09a4+p1AMJIJWnIvQd2Yxw9+fu/oEBnPrjCcsLXk="
    assert dingtalk_sign(secret="SECabc123", timestamp_ms=1700000000000) == expected.replace("+", "%2B").replace(
        "/", "%2F").replace("=", "%3D")


def test_the_signature_is_appended_to_the_webhook_url():
    url = dingtalk_signed_url(url="https://oapi.dingtalk.com/robot/send?access_token=t", secret="SECabc123",
                              timestamp_ms=1700000000000)
    assert url == ("https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000000"
                   "&sign=N5P09a4%2Bp1AMJIJWnIvQd2Yxw9%2Bfu%2FoEBnPrjCcsLXk%3D")
    assert dingtalk_signed_url(url="https://x/robot", secret="", timestamp_ms=1) == "https://x/robot"


def test_accepted_only_on_errcode_0(robots):
    send_wecom(url=robots.url("wecom", "ok"), content="**hi**", timeout=2)
    robots.secrets["signed"] = "SECabc123"
    send_dingtalk(url=robots.url("dingtalk", "signed"), secret="SECabc123", title="t", text="x", timeout=2)
    assert robots.of("signed")[0].sign_ok is True
    robots.modes["bad"] = ERRCODE
    with pytest.raises(ChannelError, match="errcode 93000"):
        send_wecom(url=robots.url("wecom", "bad"), content="x", timeout=2)
    robots.modes["busy"] = HTTP_500
    with pytest.raises(ChannelError, match="^HTTP 500$"):
        send_wecom(url=robots.url("wecom", "busy"), content="x", timeout=2)


def test_a_hanging_robot_times_out_and_a_closed_port_fails_without_naming_the_url(robots):
    robots.modes["slow"] = HANG
    with pytest.raises(ChannelError, match="超时") as hung:
        send_wecom(url=robots.url("wecom", "slow"), content="x", timeout=0.5)
    assert "TOKEN" not in hung.value.message
    from .receivers import free_port

    with pytest.raises(ChannelError, match="连接失败") as refused:
        send_wecom(url=f"http://127.0.0.1:{free_port()}/hook?key=SECRET-TOKEN", content="x", timeout=1)
    assert "SECRET-TOKEN" not in refused.value.message and "127.0.0.1" not in refused.value.message
