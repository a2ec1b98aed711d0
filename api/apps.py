from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "接口与权限"

    def ready(self) -> None:
        from django.contrib import admin

        from access.scoping import grant_domain_capabilities

        from . import signals  # noqa: F401  (tokens are revoked when a user or role changes)
        from .forms import ThrottledAdminAuthenticationForm

        # The admin's login form counts wrong passwords like the API's token endpoint does.
        admin.site.login_form = ThrottledAdminAuthenticationForm
        grant_domain_capabilities()
