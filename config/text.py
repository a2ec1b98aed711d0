"""The one rule for free text at the boundary: C0 and C1 control characters are refused on the
way in and dropped on the way out.

- In: ``control_char_problem`` (readers, import steps), ``validate_no_control_chars`` and
  ``validate_no_control_chars_multiline`` (model fields, so forms, the admin and the API's model
  serializers all run them), ``refuse_control_chars`` (services that take text directly).
- Out: ``strip_controls`` (every download and report), ``strip_controls_deep`` for a report
  dict and every API answer (``api.renderers``), ``ControlCharsOutMiddleware`` for every page.

A newline (and the carriage return of a Windows line end) is kept only where a field allows
several lines; a tab counts as a control character in a name.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from config.errors import DomainError

# C0 (U+0000..U+001F), DEL and C1 (U+0080..U+009F)
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f]")
# the same, less the line breaks of text that may hold several lines
CONTROL_CHARS_MULTILINE = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# what an output may still hold: tab, newline and carriage return (XML 1.0 allows them)
_OUTPUT_DROP = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")

CONTROL_MESSAGE = "含有不可见的控制字符（如 U+{code:04X}），请删除后重试。"


def control_char(value: str, *, multiline: bool = False) -> str | None:
    """The first control character of ``value`` that the field does not allow, else None."""
    found = (CONTROL_CHARS_MULTILINE if multiline else CONTROL_CHARS).search(value)
    return found.group() if found else None


def control_message(char: str, *, row: int | None = None, column: str | None = None) -> str:
    where = ""
    if row is not None:
        where += f"第 {row} 行"
    if column:
        where += f"“{column}”列" if row is not None else f"“{column}”"
    return f"{where}{CONTROL_MESSAGE.format(code=ord(char))}"


def refuse_control_chars(value: str | None, *, label: str, multiline: bool = False) -> None:
    """Raise a DomainError naming ``label`` when ``value`` holds a control character."""
    if value and (char := control_char(value, multiline=multiline)):
        raise DomainError(control_message(char, column=label))


@deconstructible
class ControlCharValidator:
    """A model-field validator: a form, the admin and a model serializer all run it."""

    def __init__(self, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: Any) -> None:
        if isinstance(value, str) and (char := control_char(value, multiline=self.multiline)):
            raise ValidationError(CONTROL_MESSAGE.format(code=ord(char)), code="control_character")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ControlCharValidator) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash(("ControlCharValidator", self.multiline))


validate_no_control_chars = ControlCharValidator()
validate_no_control_chars_multiline = ControlCharValidator(multiline=True)


def strip_controls(value: str) -> str:
    """Text for an output: control characters dropped (tab, newline and CR kept)."""
    return _OUTPUT_DROP.sub("", value) if _OUTPUT_DROP.search(value) else value


def strip_controls_deep(value: Any) -> Any:
    """``strip_controls`` over every string of a JSON-like tree (dicts, lists, tuples)."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, dict):
        return {key: strip_controls_deep(item) for key, item in value.items()}
    if isinstance(value, list):  # a DRF ReturnList too: a plain list renders alike
        return [strip_controls_deep(item) for item in value]
    if isinstance(value, tuple):
        return tuple(strip_controls_deep(item) for item in value)
    return value


# the same characters as _OUTPUT_DROP in UTF-8 bytes: an ASCII control byte is never part of a
# longer sequence, and \xc2 always leads (U+0080..U+009F are \xc2\x80..\xc2\x9f)
_OUTPUT_DROP_UTF8 = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]|\xef\xbf[\xbe\xbf]")


class ControlCharsOutMiddleware:
    """HTML pages without control characters: a name stored before they were refused renders
    (without them) instead of putting invalid characters into the page."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        if (not getattr(response, "streaming", False)
                and response.get("Content-Type", "").startswith("text/html")
                and _OUTPUT_DROP_UTF8.search(response.content)):
            response.content = _OUTPUT_DROP_UTF8.sub(b"", response.content)
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
