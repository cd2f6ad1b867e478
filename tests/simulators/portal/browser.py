"""Driving the portal in Debian's headless Chromium (``chromium`` + ``chromium-driver``, installed by
``scripts/install-system-deps.sh``) with Selenium: the driver, waiting, screenshots, downloads."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "portal"
"""Where the screenshots docs/portal.md shows live: the tests write there when
``EGOV_PORTAL_SCREENSHOTS=1`` (else into a temporary folder, so a test run leaves the tree clean)."""


def screenshots_dir(fallback: Path) -> Path:
    return DOCS_SCREENSHOTS if os.environ.get("EGOV_PORTAL_SCREENSHOTS") == "1" else fallback
WAIT_SECONDS = 30


def chromium_paths() -> tuple[str, str]:
    """The browser and its driver, Debian's; an AssertionError naming the set-up step when absent."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert browser and driver, "chromium and chromium-driver are missing: run scripts/install-system-deps.sh"
    return browser, driver


@contextmanager
def chromium(downloads: Path) -> Iterator[WebDriver]:
    browser, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--lang=ru-RU"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False,
                                              "plugins.always_open_pdf_externally": True})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


class Browser:
    """One user's browser on the portal at ``base``."""

    def __init__(self, driver: WebDriver, base: str, downloads: Path, screenshots: Path) -> None:
        self.driver = driver
        self.base = base
        self.downloads = downloads
        self.screenshots = screenshots

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def el(self, css: str) -> WebElement:
        return self.wait(lambda d: d.find_element(By.CSS_SELECTOR, css))

    def click(self, css: str) -> None:
        self.el(css).click()

    def type(self, css: str, text: str) -> None:
        box = self.el(css)
        box.clear()
        box.send_keys(text)

    def text(self, css: str) -> str:
        return self.el(css).text

    def wait(self, until: Callable[[Any], Any], seconds: float = WAIT_SECONDS) -> Any:
        return WebDriverWait(self.driver, seconds, ignored_exceptions=(Exception,)).until(until)

    def wait_path(self, prefix: str) -> str:
        """Wait until the page's path starts with ``prefix``; the path."""
        self.wait(lambda d: d.current_url.removeprefix(self.base).startswith(prefix))
        return str(self.driver.current_url.removeprefix(self.base))

    def wait_text(self, css: str, needle: str) -> str:
        self.wait(lambda d: needle in d.find_element(By.CSS_SELECTOR, css).text)
        return self.text(css)

    def shot(self, name: str) -> Path:
        self.screenshots.mkdir(parents=True, exist_ok=True)
        path = self.screenshots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def download(self, css: str, name: str) -> Path:
        """Click the link ``css`` and wait for the file ``name`` to be saved whole."""
        target = self.downloads / name
        target.unlink(missing_ok=True)
        self.click(css)
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if target.is_file() and not (self.downloads / f"{name}.crdownload").exists():
                return target
            time.sleep(0.1)
        raise AssertionError(f"{name} was not saved into {self.downloads}: {sorted(self.downloads.iterdir())}")
