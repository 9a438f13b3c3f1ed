"""Live progress of a job that does not complete: cancelled from the progress page, it shows its code and message."""

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import StudioPages
from tests.browser.studio_flows import sign_in
from tests.conftest import RunningServices
from tests.gateway_auth import ADMIN_HEADERS

pytestmark = [pytest.mark.connected, pytest.mark.browser]

# Long enough (animated, 720p, several scenes) that the cancel lands while the job is still running.
LESSON = "\n\n".join(
    f"Step {n} of keeping an account safe is explained here in a sentence or two for the narrator to read aloud."
    for n in range(1, 7)
)


def test_a_canceled_render_shows_its_code_and_message(
    studio: StudioPages, services: RunningServices, unique_id: str
) -> None:
    video_id = f"cancel-{unique_id}"
    with httpx.Client(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        accepted = client.post(
            f"/api/videos/{video_id}/scripts/generate",
            json={
                "title": "To be canceled",
                "source_text": LESSON,
                "options": {"language": "en"},
                "auto_render": True,
                "render_defaults": {"size": "1280x720", "visual_style": "animated"},
            },
        )
        assert accepted.status_code == 202, accepted.text

    page = studio.new_page()
    sign_in(page)
    # Opened at once: while the script is still being written the page waits on the WebSocket for the job.
    page.goto(f"/studio/videos/{video_id}/progress")
    expect(page.locator("button.cancel")).to_be_visible(timeout=30_000)
    expect(page.locator(".steps .step").first).to_be_visible()
    page.click("button.cancel")
    expect(page.locator(".outcome .failure")).to_have_text("The render was canceled.", timeout=30_000)
    expect(page.locator(".outcome .error-code")).to_have_text("CANCELED")
    expect(page.locator(".outcome .error-message")).not_to_be_empty()
    expect(page.locator("button.retry")).to_be_visible()
    studio.snap(page, "progress-canceled-en")
