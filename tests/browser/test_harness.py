"""The browser harness itself: without Chromium the tests skip, unless CI demands a browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import conftest


def test_a_missing_chromium_skips_with_a_message(monkeypatch):
    monkeypatch.setattr(conftest, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.delenv("CI_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium"):
        conftest._require_browser()


def test_a_missing_chromium_fails_when_ci_requires_the_browser(monkeypatch):
    monkeypatch.setattr(conftest, "CHROMEDRIVER", Path("/nonexistent/chromedriver"))
    monkeypatch.setenv("CI_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="CI_REQUIRE_BROWSER=1"):
        conftest._require_browser()


def test_selenium_is_never_left_to_find_its_own_driver():
    """The driver is given by path, so Selenium Manager (which downloads drivers) never runs."""
    source = Path(conftest.__file__).read_text()
    assert 'Service(str(CHROMEDRIVER))' in source and 'CHROMEDRIVER = Path("/usr/bin/chromedriver")' in source
    assert all(arg in conftest.CHROMIUM_ARGS for arg in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
    ))
