"""Browser tests: Debian's Chromium driven by Playwright's sync API, against the session's running services.

Playwright never downloads a browser here: it launches /usr/bin/chromium (the test bootstrap installs it) with a
throwaway profile, and each person in a test gets a fresh context (their own cookies and storage).
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright

from tests.conftest import RunningServices

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
VIEWPORT: ViewportSize = {"width": 1280, "height": 860}


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where every page's screenshot goes: REELFLOW_TEST_ARTIFACTS, else test-artifacts/screenshots/."""
    folder = Path(os.environ.get("REELFLOW_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless (the test is skipped where it is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium chromium-driver)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def studio_browser(services: RunningServices) -> Iterator[Browser]:
    """Chromium for one test. Playwright's sync API keeps an event loop running in this thread while it is open,
    so it is opened after the session's services are up and closed when the test ends, before any asyncio test."""
    with chromium() as browser:
        yield browser


class StudioPages:
    """Fresh browser contexts (one per person) with page errors collected, so a broken module fails the test."""

    def __init__(self, browser: Browser, base_url: str, screenshots: Path) -> None:
        self._browser = browser
        self.base_url = base_url
        self.screenshots = screenshots
        self.errors: list[str] = []
        self._contexts: list[BrowserContext] = []

    def new_page(self, locale: str = "en-US") -> Page:
        context = self._browser.new_context(base_url=self.base_url, locale=locale, viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        self._contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        return page

    def snap(self, page: Page, name: str) -> None:
        # Not "networkidle": a <video> keeps fetching ranges. Each test waits for what it shows before a snap.
        page.wait_for_load_state("load")
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(200)
        page.screenshot(path=self.screenshots / f"{name}.png", full_page=True)

    def close(self) -> None:
        for context in self._contexts:
            context.close()


@pytest.fixture
def studio(services: RunningServices, studio_browser: Browser, screenshot_dir: Path) -> Iterator[StudioPages]:
    pages = StudioPages(studio_browser, services.gateway_url, screenshot_dir)
    try:
        yield pages
        assert pages.errors == [], pages.errors
    finally:
        pages.close()
