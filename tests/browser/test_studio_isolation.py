"""One workspace never sees another's video: not in the studio (library, script, player) and not through the API."""

import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import StudioPages
from tests.browser.studio_flows import api_get, sign_in
from tests.conftest import RunningServices
from tests.gateway_auth import ADMIN_HEADERS

pytestmark = [pytest.mark.connected, pytest.mark.browser]

SCRIPT_TIMEOUT_SEC = 30


def written_script(gateway_url: str, video_id: str, *, title: str = "Private lesson", wait: bool = True) -> str:
    """A video of workspace A: a script asked for through the API with the admin's key (no render needed)."""
    with httpx.Client(base_url=gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        accepted = client.post(
            f"/api/videos/{video_id}/scripts/generate",
            json={"title": title, "source_text": "# Private\n\nOnly workspace A may read this."},
        )
        assert accepted.status_code == 202, accepted.text
        script_id: str = accepted.json()["script_id"]
        if not wait:
            return script_id
        deadline = time.monotonic() + SCRIPT_TIMEOUT_SEC
        while client.get(f"/api/scripts/{script_id}").status_code != 200:
            assert time.monotonic() < deadline, "the script was not written in time"
            time.sleep(0.3)
    return script_id


def test_user_b_cannot_see_user_a_video(studio: StudioPages, services: RunningServices, unique_id: str) -> None:
    video_id = f"private-{unique_id}"
    script_id = written_script(services.gateway_url, video_id)
    b_email, b_password = f"b-{unique_id}@reelflow.test", f"b-password-{unique_id}"

    # The admin (workspace A) adds user B, who gets a workspace of their own, and makes and revokes an API key.
    admin = studio.new_page()
    sign_in(admin)
    admin.goto("/studio/account")
    admin.fill("input[name=user_email]", b_email)
    admin.fill("input[name=user_password]", b_password)
    admin.click("button.create-user")
    expect(admin.locator(".users-table tr", has_text=b_email)).to_be_visible()
    admin.fill("input[name=key_name]", f"ci-{unique_id}")
    admin.check("input[name=scope][value=render]")
    admin.click("button.create-key")
    expect(admin.locator(".secret-value")).to_have_text(re.compile(r"^rf_[0-9a-f]{12}_[\w-]+$"))
    studio.snap(admin, "account-en")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.locator(".keys-table tr", has_text=f"ci-{unique_id}").locator("button.revoke").click()
    expect(admin.locator(".keys-table tr", has_text=f"ci-{unique_id}").locator(".badge-failed")).to_be_visible()
    assert api_get(admin, f"/api/scripts/{script_id}")[0] == 200

    # The library pages through the workspace's videos, 12 at a time (here the 13 this test made, found by search).
    for n in range(12):
        written_script(services.gateway_url, f"paging-{unique_id}-{n}", title=f"Paging {unique_id} {n}", wait=False)
    admin.goto(f"/studio/?q={unique_id}")
    expect(admin.locator(".video-card")).to_have_count(12)
    admin.click(".pager button.next")
    expect(admin.locator(".video-card")).to_have_count(1)
    expect(admin.locator(".pager")).to_contain_text("Page 2")
    admin.click(".pager button.previous")
    expect(admin.locator(".video-card")).to_have_count(12)

    # User B: an empty library, and A's script and video are not found, in the studio and in the API.
    b = studio.new_page(locale="ko-KR")
    sign_in(b, b_email, b_password)
    expect(b.locator(f".video-card[data-video-id='{video_id}']")).to_have_count(0)
    expect(b.locator(".empty-state")).to_be_visible()
    studio.snap(b, "library-empty-ko")
    b.goto(f"/studio/scripts/{script_id}")
    expect(b.locator(".error .error-code")).to_have_text("NOT_FOUND")
    studio.snap(b, "script-not-found-ko")
    b.goto(f"/studio/videos/{video_id}")
    expect(b.locator(".error .error-code, .notice").first).to_be_visible()
    assert api_get(b, f"/api/scripts/{script_id}")[0] == 404
    assert api_get(b, f"/api/videos/{video_id}/render-jobs")[0] == 404

    # B changes their password on the account page: two different new ones, then a wrong current one, are refused
    # saying why; then it is changed.
    b_new_password = f"b-changed-{unique_id}"
    b.goto("/studio/account")
    b.fill("input[name=current_password]", "not-my-password")
    b.fill("input[name=new_password]", b_new_password)
    b.fill("input[name=repeat_password]", b_new_password + "x")
    b.click("button.change-password")
    expect(b.locator(".password .error")).to_contain_text("새 비밀번호 두 개가 다릅니다")
    b.fill("input[name=repeat_password]", b_new_password)
    b.click("button.change-password")
    expect(b.locator(".password .error .error-code")).to_have_text("VALIDATION_FAILED")
    expect(b.locator(".password .error")).to_contain_text("current_password")
    b.fill("input[name=current_password]", b_password)
    b.fill("input[name=new_password]", b_new_password)
    b.fill("input[name=repeat_password]", b_new_password)
    b.click("button.change-password")
    expect(b.locator(".password .success")).to_be_visible()
    expect(b.locator("input[name=current_password]")).to_have_value("")
    expect(b.locator("main")).not_to_contain_text("null")  # a member's page has no users section, and no trace of it
    studio.snap(b, "account-password-ko")
    assert api_get(b, "/api/me")[0] == 200  # this session stays signed in

    # Signing out ends the session: the studio sends B back to the sign-in page.
    b.click("#sign-out")
    b.wait_for_url("**/studio/login")
    assert api_get(b, "/api/me")[0] == 401
    b.goto("/studio/account")
    b.wait_for_url("**/studio/login?next=%2Fstudio%2Faccount")
    sign_in(b, b_email, b_new_password)  # the new password signs in
