"""A command that fails unexpectedly prints one line in Chinese (and, with --json, one JSON
object), exits 3, and leaves the traceback in a file, never on the terminal."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _broken_summary():
    raise RuntimeError("the database went away")


@pytest.mark.parametrize("as_json", [False, True])
def test_an_unexpected_failure_is_one_line_exit_3_and_a_crash_report(as_json, monkeypatch, settings, tmp_path):
    from roster.management.commands import roster_summary

    monkeypatch.setattr(roster_summary, "roster_summary", _broken_summary)
    settings.BASE_DIR = tmp_path
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("roster_summary", *(["--json"] if as_json else []), stdout=out, stderr=err)
    assert exited.value.code == 3
    assert "Traceback" not in out.getvalue() + err.getvalue()
    assert err.getvalue().startswith("内部错误：命令未能完成，未作任何改动。")
    report = tmp_path / "var" / "log" / "command-errors.log"
    assert "the database went away" in report.read_text(encoding="utf-8")
    if as_json:
        assert json.loads(out.getvalue()) == {"error": "内部错误：命令未能完成，未作任何改动。", "errors": []}
    else:
        assert out.getvalue() == ""


class _ClosedPipe(io.StringIO):
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reader_that_stops_reading_is_not_an_internal_error(settings, tmp_path):
    # `manage.py roster_summary | head -1`: head closes the pipe, the command stops quietly.
    settings.BASE_DIR = tmp_path
    err = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("roster_summary", stdout=_ClosedPipe(), stderr=err)
    assert exited.value.code == 141
    assert err.getvalue() == ""
    assert not (tmp_path / "var" / "log" / "command-errors.log").exists()


def test_a_real_closed_pipe_ends_quietly_with_141(tmp_path):
    """`manage.py roster_summary | head -1` for real: a separate process whose standard output
    is a pipe nobody reads any more. No 「内部错误」, no "Exception ignored ... BrokenPipeError"."""
    import os
    import subprocess
    import sys

    from django.conf import settings as django_settings

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'pipe.sqlite3'}", "CELERY_BROKER_URL": ""}
    manage = [sys.executable, str(django_settings.BASE_DIR / "manage.py")]
    migrated = subprocess.run([*manage, "migrate", "-v0"], env=env, capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line is written
    try:
        ran = subprocess.run([*manage, "roster_summary"], env=env, stdout=write_end, stderr=subprocess.PIPE,
                             text=True, timeout=120)
    finally:
        os.close(write_end)
    assert ran.returncode == 141
    assert ran.stderr == ""
