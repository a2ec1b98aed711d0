from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The pages. Their capabilities (stats.read, exams.read, exams.write, exams.not_sat,
    events.read, events.write, reports.read) are the API's, given to roles in ApiConfig.ready."""

    name = "web"
    verbose_name = _("网页")
