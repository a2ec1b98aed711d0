"""No ID number or phone reaches a log line or a crash report, whatever an exception carries."""

from __future__ import annotations

import io
import logging

import pytest
from django.conf import settings
from django.core.management import call_command

from config.redact import RedactPersonalData, redact

ID_NUMBER = "11010519491231002X"
PHONE = "13800138000"


def test_redact_masks_id_numbers_and_mobiles_and_leaves_other_numbers():
    text = f"Failing row contains (7, 0001, 张三, {ID_NUMBER}, {PHONE}, 2026-11-30, 12345678, abc{'1' * 18}def)."
    shown = redact(text)
    assert ID_NUMBER not in shown and PHONE not in shown
    assert "110105********002X" in shown and "*******8000" in shown
    assert "12345678" in shown and f"abc{'1' * 18}def" in shown  # short numbers, digests


def test_log_records_and_their_tracebacks_are_masked():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactPersonalData())
    logger = logging.getLogger("tests.redact")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"bad row: {ID_NUMBER} {PHONE}")
        except ValueError:
            logger.exception("import of %s failed", PHONE)
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "ValueError" in output and "*******8000" in output
    assert ID_NUMBER not in output and PHONE not in output


def test_the_console_log_handler_masks_personal_data():
    assert "redact" in settings.LOGGING["handlers"]["console"]["filters"]


@pytest.mark.django_db
def test_a_crash_report_never_holds_a_plain_id_number_or_phone(monkeypatch, settings, tmp_path):
    from roster.management.commands import roster_summary

    def broken():
        raise RuntimeError(f"Failing row contains ({ID_NUMBER}, {PHONE})")

    monkeypatch.setattr(roster_summary, "roster_summary", broken)
    settings.BASE_DIR = tmp_path
    with pytest.raises(SystemExit):
        call_command("roster_summary", stdout=io.StringIO(), stderr=io.StringIO())
    report = (tmp_path / "var" / "log" / "command-errors.log").read_text(encoding="utf-8")
    assert "Failing row contains" in report
    assert ID_NUMBER not in report and PHONE not in report
