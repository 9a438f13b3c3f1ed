"""Steps the browser tests share: signing in, reading the API as the signed-in person does, and following a
render to its end."""

import hashlib
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.gateway_auth import ADMIN_EMAIL, ADMIN_PASSWORD


def sign_in(page: Page, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    page.goto("/studio/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    page.wait_for_url("**/studio/")
    page.wait_for_selector(".video-grid > li:not(:has(.loading))")


def upload_key(path: Path, extension: str) -> str:
    """The media_key POST /api/uploads answers for a file: its content's sha256 (DESIGN §5)."""
    return f"uploads/{hashlib.sha256(path.read_bytes()).hexdigest()}.{extension}"


def fill_small_lesson(page: Page, title: str, text: str, language: str) -> None:
    """On New lesson: the lesson, and the shortest, smallest video (half a minute at 640x360), quick to render."""
    page.fill("input[name=title]", title)
    page.fill("textarea[name=source_text]", text)
    page.select_option("select[name=language]", language)
    page.fill("input[name=target_minutes]", "0.5")
    page.select_option("select[name=size]", "640x360")


def api_get(page: Page, path: str) -> tuple[int, Any]:
    """GET an API path with the page's own session (its cookie), as the studio's modules do."""
    answer: tuple[int, Any] = page.evaluate(
        """async (path) => {
            const response = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
            const type = response.headers.get('Content-Type') || '';
            return [response.status, type.includes('json') ? await response.json() : await response.text()];
        }""",
        path,
    )
    return answer


# How long a browser test waits for one of its small renders to complete.
RENDER_TIMEOUT_MS = 120_000


def completed_job(page: Page) -> dict[str, Any]:
    """After a render was started from a form: on its progress page, wait until the player link shows; the job, as
    the API answers it, must be COMPLETED."""
    page.wait_for_url(re.compile(r"/studio/videos/[^/]+/progress\?job="))
    job_id = page.url.rsplit("job=", 1)[1]
    expect(page.locator("a.open-player")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    status, job = api_get(page, f"/api/render-jobs/{job_id}")
    assert status == 200 and job["status"] == "COMPLETED", job
    assert isinstance(job, dict)
    return job


def wait_until_played(page: Page) -> dict[str, float]:
    """Start the player's <video> (muted, as autoplay rules allow) and answer its duration and current time.

    Predicates are functions, not expression strings: a string is evaluated with eval, which the studio's CSP blocks.
    """
    page.wait_for_selector("video.player-video")
    page.wait_for_function("() => document.querySelector('video.player-video').readyState >= 1", timeout=30_000)
    page.evaluate("() => { const v = document.querySelector('video.player-video'); v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('video.player-video').currentTime > 0.3", timeout=15_000)
    played: dict[str, float] = page.evaluate(
        "() => { const v = document.querySelector('video.player-video');"
        " return {duration: v.duration, time: v.currentTime}; }"
    )
    return played
