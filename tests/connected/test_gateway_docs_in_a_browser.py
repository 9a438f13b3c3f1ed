"""The API documentation pages in a real browser (Debian's Chromium, headless) against the running gateway: each
renders its viewer under its Content-Security-Policy with nothing fetched from another origin."""

import shutil
from urllib.parse import urlparse

import pytest
from playwright.async_api import async_playwright
from tests.conftest import RunningServices

pytestmark = pytest.mark.connected

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# What each page shows once its viewer has read the OpenAPI document: an operation block, a ReDoc section.
RENDERED = {"/docs": ".opblock", "/redoc": "[data-section-id]"}
# ReDoc's "powered by" footer asks its CDN for a logo; the page's policy blocks it, which is what we want.
BLOCKED_ON_PURPOSE = ("https://cdn.redoc.ly/",)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (scripts/bootstrap.sh installs it)")
@pytest.mark.parametrize("page_path", sorted(RENDERED))
async def test_a_docs_page_renders_offline_within_its_policy(services: RunningServices, page_path: str) -> None:
    gateway = urlparse(services.gateway_url).netloc
    problems: list[str] = []
    elsewhere: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
            page.on(
                "console",
                lambda message: (
                    problems.append(message.text)
                    if "Content Security Policy" in message.text
                    and not any(u in message.text for u in BLOCKED_ON_PURPOSE)
                    else None
                ),
            )
            page.on(
                "request",
                lambda request: (
                    elsewhere.append(request.url)
                    if urlparse(request.url).scheme in ("http", "https") and urlparse(request.url).netloc != gateway
                    else None
                ),
            )
            response = await page.goto(services.gateway_url + page_path)
            assert response is not None and response.status == 200
            await page.wait_for_selector(RENDERED[page_path], timeout=20_000)
        finally:
            await browser.close()
    assert problems == []
    assert [url for url in elsewhere if not url.startswith(BLOCKED_ON_PURPOSE)] == []
