from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "web"
    verbose_name = _("网页")

    def ready(self) -> None:
        from .access import grant_page_capabilities

        grant_page_capabilities()
