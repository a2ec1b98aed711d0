"""unit_channel: a unit's robots are set and cleared; only http/https is accepted; the URL and
the secret are credentials, stored sealed, never logged, and shown only as their host."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command

from reminders.channels import unit_channel_credentials
from reminders.models import UnitChannel

pytestmark = pytest.mark.django_db

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=c0ffee1234567890"
SECRET = "SECb6ff3a2c1c9d4e8f0123456789abcdef"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("unit_channel", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_set_wecom_then_signed_dingtalk_shows_hosts_only(units, caplog):
    caplog.set_level(logging.DEBUG)
    code, out, _ = run("A", "--wecom", WECOM, "--json")
    assert code == 0 and json.loads(out) == {"unit": "A", "unit_name": "测试区财政局", "wecom": "qyapi.weixin.qq.com",
                                             "dingtalk": None, "dingtalk_signed": False}
    code, out, _ = run("A", "--dingtalk", DINGTALK, "--dingtalk-secret", SECRET, "--json")
    assert json.loads(out)["dingtalk"] == "oapi.dingtalk.com" and json.loads(out)["dingtalk_signed"] is True
    code, out, _ = run("A")
    assert code == 1
    code, text, _ = run("A", "--wecom", WECOM)
    assert "qyapi.weixin.qq.com" in text and "key=" not in text
    # stored sealed: neither the token nor the secret is in any column; the sender reads them back
    for row in UnitChannel.objects.all():
        stored = " ".join(str(v) for v in UnitChannel.objects.filter(pk=row.pk).values().first().values())
        assert "693a91f6" not in stored and "c0ffee" not in stored and SECRET not in stored
    dingtalk = UnitChannel.objects.get(unit__code="A", channel="dingtalk")
    assert unit_channel_credentials(dingtalk) == (DINGTALK, SECRET)
    assert "c0ffee" not in str(dingtalk) and "oapi.dingtalk.com" in str(dingtalk)
    assert not any(token in record.getMessage() for record in caplog.records
                   for token in ("693a91f6", "c0ffee", SECRET))


def test_setting_again_replaces_and_clear_removes_every_robot(units):
    run("B", "--wecom", WECOM)
    run("B", "--wecom", "http://10.0.0.5:8080/hook?key=new")
    assert UnitChannel.objects.get(unit__code="B").host == "10.0.0.5"
    run("B", "--dingtalk", DINGTALK)
    assert UnitChannel.objects.filter(unit__code="B").count() == 2
    code, out, _ = run("B", "--clear", "--json")
    assert code == 0 and json.loads(out)["wecom"] is None and json.loads(out)["dingtalk"] is None
    assert not UnitChannel.objects.exists()


@pytest.mark.parametrize("url", [
    "ftp://example.com/hook", "javascript:alert(1)", "file:///etc/passwd", "https://", "qyapi.weixin.qq.com/send",
    "https://user:pw@example.com/hook", "https://exa mple.com/hook", "http://example.com:notaport/",
])
def test_only_http_and_https_urls_with_a_host_are_accepted(units, url):
    code, out, err = run("A", "--wecom", url)
    assert code == 1 and out == ""
    assert err.startswith("错误：Webhook 地址") and "Traceback" not in err
    assert url not in err  # a refused URL is not echoed back (it may hold a token)
    assert not UnitChannel.objects.exists()


@pytest.mark.parametrize("args, message", [
    (["--wecom", WECOM, "--dingtalk", DINGTALK], "三者之一"),
    (["--clear", "--wecom", WECOM], "三者之一"),
    (["--wecom", WECOM, "--dingtalk-secret", SECRET], "--dingtalk-secret 只能与 --dingtalk 一起使用"),
    (["--dingtalk", DINGTALK, "--dingtalk-secret", "SEC with space"], "加签密钥"),
])
def test_wrong_combinations_are_refused_in_chinese(units, args, message):
    code, _, err = run("A", *args)
    assert code == 1 and message in err
    assert not UnitChannel.objects.exists()


def test_an_unknown_unit_is_refused(units):
    code, _, err = run("NOPE", "--wecom", WECOM)
    assert code == 1 and err.strip() == "错误：单位代码不存在：NOPE"
