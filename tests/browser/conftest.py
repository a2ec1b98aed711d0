"""Real-browser tests: Debian's headless Chromium driven by Selenium through
/usr/bin/chromedriver (never Selenium Manager, which would download a driver), against
pytest-django's ``live_server`` (a transactional database: SQLite or PostgreSQL).

Where Chromium or its driver is absent the tests skip with a message, unless
``CI_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where they fail. Every test saves screenshots to
``var/screenshots/`` (see the README)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PASSWORD = "Zq8!long-enough-pass"
DESKTOP = (1366, 768)
PHONE = (390, 844)
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--lang=zh-CN",
)



def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not (p.is_file() and os.access(p, os.X_OK))]
    if not missing:
        return
    message = f"浏览器测试需要 Debian 的 chromium 与 chromium-driver，缺少：{', '.join(missing)}"
    if os.environ.get("CI_REQUIRE_BROWSER") == "1":
        pytest.fail(message + "（CI_REQUIRE_BROWSER=1）", pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _fast_hasher_and_clean_cache(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@dataclass
class Browser:
    driver: object
    base_url: str
    downloads: Path
    test_name: str
    shots: int = 0

    def go(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base_url)

    def find(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def find_all(self, selector: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def text(self, selector: str = "body") -> str:
        return self.find(selector).text

    def wait_for(self, condition: Callable[[], object], timeout: float = 15, message: str = "") -> object:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = condition()
            except Exception:  # the page may be between loads
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                self.screenshot("timeout")
                raise AssertionError(message or "condition not met in time")
            time.sleep(0.1)

    def submit(self, selector: str) -> None:
        """Click a submit button and wait for the next page."""
        old = self.find("html")
        self.find(selector).click()
        self.wait_for(lambda: _stale(old), message=f"no new page after clicking {selector}")
        self.wait_for(lambda: self.driver.execute_script("return document.readyState") == "complete")

    def viewport(self, width: int, height: int, *, mobile: bool = False) -> None:
        """An exact viewport (the window's own size also counts its toolbars): 1366×768 for an
        office PC, 390×844 with touch and a device pixel ratio of 3 for a phone."""
        self.driver.set_window_size(width, height + 140)
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 3 if mobile else 1, "mobile": mobile,
        })
        if mobile:
            self.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        safe = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{self.test_name}-{self.shots:02d}-{name}")
        path = SCREENSHOTS / f"{safe}.png"
        self.driver.save_screenshot(str(path))
        return path

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.go("/login/")
        self.find("#id_username").send_keys(username)
        self.find("#id_password").send_keys(password)
        self.submit("form button[type=submit]")

    def wait_for_download(self, suffix: str, timeout: float = 20) -> Path:
        def done() -> Path | None:
            files = [p for p in self.downloads.glob(f"*{suffix}") if not p.name.endswith(".crdownload")]
            return files[0] if files else None

        return self.wait_for(done, timeout=timeout, message=f"no {suffix} file downloaded")


def _stale(element) -> bool:
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        _ = element.tag_name
    except StaleElementReferenceException:
        return True
    return False


@pytest.fixture
def browser(request, live_server, tmp_path) -> Iterator[Browser]:
    _require_browser()
    # belt and braces: Selenium Manager must never fetch anything, even if asked
    os.environ["SE_OFFLINE"] = "true"
    os.environ["SE_AVOID_STATS"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
    # the office PCs and phones ask for Chinese; without this Chromium asks for en-US and the
    # pages (rightly) answer in English
    options.add_argument("--lang=zh-CN")
    options.add_experimental_option("prefs", {
        "intl.accept_languages": "zh-CN,zh",
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
        "download.directory_upgrade": True,
        "safebrowsing.enabled": False,
    })
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(30)
    # screenshots are named after the test file, then numbered: var/screenshots/hr_roster_upload-01-....png
    name = request.node.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    if len([i for i in request.session.items if i.module is request.node.module]) > 1:
        name += "-" + request.node.name.removeprefix("test_")[:40]
    for old in SCREENSHOTS.glob(f"{name}-[0-9][0-9]-*.png"):
        old.unlink()
    browser = Browser(driver=driver, base_url=live_server.url, downloads=downloads, test_name=name)
    browser.viewport(*DESKTOP)
    try:
        yield browser
    finally:
        try:
            browser.screenshot("end")
        finally:
            driver.quit()


def fits_width(browser: Browser) -> bool:
    """The page needs no sideways scrolling (wide tables scroll inside their own box)."""
    return browser.driver.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


@pytest.fixture
def make_user(db):
    from access.services import user_role_set

    def make(username: str, role: str, unit: str | None = None):
        return user_role_set(username=username, role=role, unit_code=unit, password=PASSWORD)[0].user

    return make
