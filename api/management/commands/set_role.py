from __future__ import annotations

from access.services import user_role_set
from config.cli import DomainCommand


class Command(DomainCommand):
    help = (
        "给用户设定角色（hr / legal_office / liaison / viewer / staff / provisioner），用户不存在时自动创建。"
        "单位联络员须用 --unit 指定单位；法治办、人事部门加 --unit 则只管理该单位及其下级单位（市、区的办公室），不加则管理全部；"
        "本人账号（staff）须用 --staff-no 指定人员工号，只能查看本人的学法档案；SCIM 对接账号（provisioner）只能使用 /scim/v2/。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", help="用户名")
        parser.add_argument("role", help="角色：hr、legal_office、liaison、viewer、staff 或 provisioner")
        parser.add_argument("--unit", dest="unit", default=None, help="单位代码（liaison 必填；legal_office、hr 可选：只管理该单位及其下级单位）")
        parser.add_argument("--staff-no", dest="staff_no", default=None, help="人员工号（仅 staff 需要）")
        parser.add_argument("--password", default=None, help="设置密码（不填则不改；新用户无密码时不能登录）")
        parser.add_argument("--rate-limit-exempt", action="store_true", help="免于接口限流（系统对接、压力测试账号）")
        parser.add_argument("--email", metavar="ADDRESS", default=None,
                            help="用户的邮箱（单位联络员在此接收提醒邮件）；传空字符串则清除")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, username: str, role: str, unit: str | None, staff_no: str | None, password: str | None,
               rate_limit_exempt: bool, email: str | None, json: bool, **options) -> None:
        user_role, created = user_role_set(
            username=username, role=role, unit_code=unit, password=password, rate_limit_exempt=rate_limit_exempt,
            staff_no=staff_no, email=email,
        )
        if json:
            self.emit_json({
                "username": user_role.user.get_username(),
                "role": user_role.role,
                "unit": user_role.unit.code if user_role.unit_id else None,
                "staff_no": user_role.staff.staff_no if user_role.staff_id else None,
                "created": created,
                "rate_limit_exempt": user_role.rate_limit_exempt,
                "email": user_role.user.email,
            })
            return
        where = f"，负责单位：{user_role.unit.name}（{user_role.unit.code}）" if user_role.unit_id else ""
        if user_role.staff_id:
            where = f"，本人：{user_role.staff.name}（{user_role.staff.staff_no}）"
        if user_role.user.email:
            where += f"，邮箱：{user_role.user.email}"
        self.stdout.write(
            f"{'已创建用户' if created else '已更新用户'} {user_role.user.get_username()}："
            f"角色 {user_role.get_role_display()}（{user_role.role}）{where}。"
        )
        if created and password is None:
            self.stdout.write("提示：该用户尚无密码，请用 --password 设置后才能登录。")
