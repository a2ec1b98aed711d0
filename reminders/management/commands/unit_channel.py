from __future__ import annotations

from config.cli import DomainCommand
from config.errors import DomainError
from reminders.channels import unit_channel_clear, unit_channel_set
from reminders.models import Channel


class Command(DomainCommand):
    help = ("设置单位的群机器人：--wecom 企业微信群机器人 Webhook，--dingtalk 钉钉自定义机器人 Webhook（可加 "
            "--dingtalk-secret 加签密钥），--clear 删除该单位的全部群机器人。只接受 http/https 地址；地址和密钥加密保存，"
            "只显示主机名。")

    def add_arguments(self, parser) -> None:
        parser.add_argument("code", help="单位代码")
        # one of the three, checked in handle() so that the message is in Chinese
        parser.add_argument("--wecom", metavar="URL", default=None, help="企业微信群机器人 Webhook 地址")
        parser.add_argument("--dingtalk", metavar="URL", default=None, help="钉钉自定义机器人 Webhook 地址")
        parser.add_argument("--clear", action="store_true", help="删除该单位的群机器人")
        parser.add_argument("--dingtalk-secret", metavar="SECRET", default=None, help="钉钉机器人的加签密钥（SEC 开头）")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, code: str, wecom: str | None, dingtalk: str | None, clear: bool,
               dingtalk_secret: str | None, json: bool, **options) -> None:
        if (wecom is not None) + (dingtalk is not None) + clear != 1:
            raise DomainError("请指定 --wecom URL、--dingtalk URL 或 --clear 三者之一。")
        if dingtalk_secret is not None and dingtalk is None:
            raise DomainError("--dingtalk-secret 只能与 --dingtalk 一起使用。")
        if clear:
            robots = unit_channel_clear(unit_code=code)
        elif wecom is not None:
            robots = unit_channel_set(unit_code=code, channel=Channel.WECOM, url=wecom)
        else:
            robots = unit_channel_set(unit_code=code, channel=Channel.DINGTALK, url=dingtalk or "",
                                      secret=dingtalk_secret)
        if json:
            self.emit_json(robots.as_dict())
            return
        signed = "（已加签）" if robots.dingtalk_signed else ""
        self.stdout.write(
            f"{robots.unit.name}（{robots.unit.code}）的群机器人：企业微信 {robots.wecom or '未设置'}；"
            f"钉钉 {robots.dingtalk or '未设置'}{signed}。"
        )
