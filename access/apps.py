from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "角色与权限"
