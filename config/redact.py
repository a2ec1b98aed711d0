"""A last guard for personal data in logs and crash reports: anything that looks like an ID
number or a mobile number is masked as the pages show it (450203********123X, ***1234).

Code never logs such values on purpose; this catches what an exception message may carry
(PostgreSQL's "Failing row contains (...)" lists a staff row with its phone)."""

from __future__ import annotations

import logging
import re
import traceback

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[\s-]?)?1[3-9]\d{5}(\d{4})(?![0-9A-Za-z])")


def redact(text: str) -> str:
    text = _ID_NUMBER.sub(r"\1********\2", text)
    return _MOBILE.sub(r"*******\1", text)


class RedactPersonalData(logging.Filter):
    """Masks the message and the traceback of every record that passes the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it as usual
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
