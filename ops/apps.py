from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "运行维护"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from config.logs import clear_request_context

        request_finished.connect(clear_request_context, dispatch_uid="legaltrack-clear-request-context")
