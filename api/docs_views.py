"""/api/schema/ and /api/docs/: open to anyone when ``API_DOCS_PUBLIC`` is on (development),
else only to a signed-in user (session or token), which is the production default. Read at
each request, so a test or an operator's change needs no restart of the URLconf."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer


class _DocsPermission:
    def get_permissions(self):
        return [AllowAny()] if settings.API_DOCS_PUBLIC else [IsAuthenticated()]


class SchemaView(_DocsPermission, SpectacularAPIView):
    def handle_exception(self, exc):
        # a refusal is the API's JSON error, not the schema's YAML
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


class SwaggerView(_DocsPermission, SpectacularSwaggerSplitView):
    def handle_exception(self, exc):
        if not settings.API_DOCS_PUBLIC and not self.request.user.is_authenticated:
            # a person in a browser: the sign-in page, then back here
            return redirect_to_login(self.request.get_full_path())
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)
