from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = "执法证"

    def ready(self) -> None:
        from .audience import register_renewal_audience
        from .capabilities import grant_certificate_capabilities
        from .due_reminders import register_reminder_kind

        grant_certificate_capabilities()
        register_reminder_kind()
        register_renewal_audience()
