"""``manage.py check`` fails when the configured field keys do not fit the stored data."""

from __future__ import annotations

from django.core.checks import Error, register


@register()
def field_keys_check(app_configs=None, **kwargs) -> list[Error]:
    from .fieldkeys import field_key_decrypt_problems, field_key_problems

    problems = field_key_problems()
    if not problems:
        problems = field_key_decrypt_problems()
    return [Error(message, id="roster.E001") for message in problems[:1]]
