"""The API's JSON renderer: every string of an answer without control characters
(``config.text.strip_controls_deep``), so text stored before they were refused (a legacy row, a
direct database edit) never reaches a client. Newlines, tabs and CRs are kept."""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import JSONRenderer

from config.text import strip_controls_deep


class CleanJSONRenderer(JSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return super().render(strip_controls_deep(data), accepted_media_type, renderer_context)
