from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "网页"

    def ready(self) -> None:
        from .access import grant_page_capabilities

        grant_page_capabilities()
