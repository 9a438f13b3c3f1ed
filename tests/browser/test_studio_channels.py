"""The account page's YouTube channels, in Chromium against a gateway of its own that connects channels with a
fake Google: a connected channel is listed, Connect goes to Google's consent page with the flow's PKCE challenge,
coming back from it lists the new channel, and Disconnect removes one."""

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Route

from tests.browser.conftest import StudioPages, chromium
from tests.channel_gateway import own_channel_gateway
from tests.fake_youtube import FakeYouTube
from tests.gateway_auth import ADMIN_EMAIL, ADMIN_HEADERS, ADMIN_PASSWORD

pytestmark = pytest.mark.browser
PASTED = "UCpastedInTheStudio00001"
CONSENTED = "UCconsentedInTheStudio01"


@pytest.fixture
def channel_studio(tmp_path: Path, screenshot_dir: Path) -> Iterator[tuple[StudioPages, FakeYouTube]]:
    with (
        FakeYouTube() as youtube,
        own_channel_gateway(youtube, tmp_path) as gateway_url,
        chromium() as browser,
    ):
        pages = StudioPages(browser, gateway_url, screenshot_dir)
        try:
            yield pages, youtube
            assert pages.errors == [], pages.errors
        finally:
            pages.close()


def test_the_account_page_lists_connects_and_disconnects_channels(
    channel_studio: tuple[StudioPages, FakeYouTube],
) -> None:
    studio, youtube = channel_studio
    token = youtube.refresh_token_for(PASTED, "Pasted lessons")
    pasted = httpx.post(
        f"{studio.base_url}/api/channels", json={"refresh_token": token}, headers=ADMIN_HEADERS, timeout=30
    )
    assert pasted.status_code == 201, pasted.text

    page = studio.new_page()
    page.goto("/studio/login")
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", ADMIN_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/studio/")
    page.goto("/studio/account")
    row = page.wait_for_selector(f".channels tr[data-channel-id={PASTED}]")
    assert row is not None and "Pasted lessons" in row.inner_text()

    consent_pages: list[str] = []

    def google_consent(route: Route) -> None:
        consent_pages.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>Google would ask here</p>")

    page.route(f"{youtube.api_url}o/oauth2/**", google_consent)
    page.click(".channels button.connect-channel")
    page.wait_for_url(f"{youtube.api_url}o/oauth2/**")
    [consent_url] = consent_pages
    query = {name: values[0] for name, values in parse_qs(urlsplit(consent_url).query).items()}
    assert query["client_id"] == youtube.client_id and query["code_challenge_method"] == "S256"
    code = youtube.authorize(
        query["client_id"], query["redirect_uri"], query["code_challenge"], channel_id=CONSENTED, title="Consented"
    )
    page.goto(f"/api/channels/oauth/callback?code={code}&state={query['state']}")
    page.wait_for_url("**/studio/account")
    page.wait_for_selector(f".channels tr[data-channel-id={CONSENTED}]")
    studio.snap(page, "account-channels")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f".channels tr[data-channel-id={PASTED}] button.disconnect")
    page.wait_for_selector(f".channels tr[data-channel-id={PASTED}]", state="detached")
    listed = httpx.get(f"{studio.base_url}/api/channels", headers=ADMIN_HEADERS, timeout=30).json()
    assert [channel["channel_id"] for channel in listed] == [CONSENTED]
