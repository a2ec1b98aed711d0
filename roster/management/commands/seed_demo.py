from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model

from config.cli import DomainCommand
from config.errors import DomainError
from roster.demo import demo_people, demo_units, roster_csv, units_csv
from roster.models import Staff
from roster.sync import roster_sync, roster_sync_create
from roster.units import unit_import

DEMO_ADMIN = "admin"
DEMO_PASSWORD = "demo-admin-2026"


class Command(DomainCommand):
    help = "生成演示数据：约 35 个单位、约 2100 名人员（虚构姓名、有效的虚构身份证号）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="仅当名册为空时生成")
        parser.add_argument("--seed", type=int, default=2023, help="随机种子")

    def handle(self, *args, if_empty: bool, seed: int, **options) -> None:
        if settings.PRODUCTION:
            raise DomainError("生产模式下不能生成演示数据。")
        if if_empty and Staff.objects.exists():
            self.stdout.write("名册已有数据，跳过演示数据。")
            if get_user_model().objects.filter(username=DEMO_ADMIN).exists():
                self.stdout.write(f"管理员登录：用户名 {DEMO_ADMIN}，密码 {DEMO_PASSWORD}（演示数据生成时所设，如未修改）")
            return
        units = demo_units()
        result = unit_import(data=units_csv(units), filename="demo-units.csv")
        if not result.applied:
            raise DomainError("演示单位导入失败。")
        people = demo_people(units, seed=seed)
        sync = roster_sync_create(file=roster_csv(people), file_name="demo-roster.csv", allow_mass_deactivation=True)
        outcome = roster_sync(sync=sync)
        if not outcome.applied:
            raise DomainError(f"演示名册同步失败：{outcome.message}")
        self.seed_other_apps(seed=seed)
        User = get_user_model()
        if not User.objects.filter(username=DEMO_ADMIN).exists():
            User.objects.create_superuser(DEMO_ADMIN, "", DEMO_PASSWORD)
        self.stdout.write(f"演示数据已生成：{len(units)} 个单位，{outcome.created} 名人员。")
        self.stdout.write(f"管理员登录：用户名 {DEMO_ADMIN}，密码 {DEMO_PASSWORD}")

    def seed_other_apps(self, *, seed: int) -> None:
        """Each app may provide ``<app>/demo.py`` with ``seed_demo(*, seed: int) -> str``; its
        one-line summary is printed."""
        from importlib import import_module
        from importlib.util import find_spec

        from django.apps import apps

        for config in apps.get_app_configs():
            if config.name == "roster" or find_spec(f"{config.name}.demo") is None:
                continue
            module = import_module(f"{config.name}.demo")
            if hasattr(module, "seed_demo"):
                summary = module.seed_demo(seed=seed)
                if summary:
                    self.stdout.write(summary)
