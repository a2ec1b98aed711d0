from django.apps import AppConfig


class ScimConfig(AppConfig):
    """SCIM 2.0 (RFC 7643/7644) under /scim/v2/: HR's identity system provisions the roster.
    An HTTP door like ``api``: it may import the domain apps; no domain app imports it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "scim"
    verbose_name = "SCIM 对接"
