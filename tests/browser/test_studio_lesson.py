"""The whole lesson flow in the studio: sign in, paste a lesson, edit a scene, approve, watch progress, play."""

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import StudioPages
from tests.browser.studio_flows import RENDER_TIMEOUT_MS, api_get, fill_small_lesson, sign_in, wait_until_played
from tests.gateway_auth import ADMIN_EMAIL

pytestmark = [pytest.mark.connected, pytest.mark.browser]

LESSON = """# Strong passwords

A strong password is long. Use a phrase of four or more words.

## Never reuse

Never use the same password twice.
"""
EDITED_NARRATION = "A strong password is long and unique. Use four or more words."
ADDED_NARRATION = "Turn on a second factor."
DURATION_TOLERANCE_SEC = 0.5


def test_a_lesson_from_pasted_text_to_a_playing_video(studio: StudioPages) -> None:
    page = studio.new_page()
    page.goto("/studio/new")
    page.wait_for_url("**/studio/login?next=%2Fstudio%2Fnew")
    studio.snap(page, "login-en")
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", "not-the-password")
    page.click("form button[type=submit]")
    expect(page.locator(".error .error-code")).to_have_text("UNAUTHENTICATED")
    studio.snap(page, "login-refused-en")
    sign_in(page)

    # An empty lesson is refused by the API, and the page shows the API's code and message.
    page.goto("/studio/new")
    page.click("form button[type=submit]")
    expect(page.locator(".error .error-code")).to_have_text("VALIDATION_FAILED")
    expect(page.locator(".error .error-message")).to_contain_text("source_text")
    studio.snap(page, "new-lesson-refused-en")
    fill_small_lesson(page, "Strong passwords", LESSON, "en")
    page.select_option("select[name=subtitles]", "sidecar")
    expect(page.locator("input[name=brand_accent]")).to_be_hidden()
    page.select_option("select[name=theme]", "brand")
    expect(page.locator("input[name=brand_accent]")).to_be_visible()  # a brand theme asks for its colours
    page.select_option("select[name=layout]", "bullets")
    expect(page.locator("input[name=title_card]")).to_be_checked()
    studio.snap(page, "new-lesson-en")
    page.click("form button[type=submit]")

    # Script review: the outline writer makes one scene per paragraph; edit the first one and save version 2.
    page.wait_for_url("**/studio/scripts/*")
    script_id = page.url.rsplit("/", 1)[1]
    first = page.locator(".scene textarea[name=narration]").first
    expect(first).to_be_visible(timeout=30_000)
    first.fill(EDITED_NARRATION)
    expect(page.locator(".dirty-note")).to_be_visible()
    # Add two scenes to the first chapter, remove the second of them, and move the first one up to the top.
    chapter = page.locator(".chapter").first
    chapter.locator("button.add-scene").click()
    chapter.locator(".scene textarea[name=narration]").last.fill(ADDED_NARRATION)
    chapter.locator("button.add-scene").click()
    chapter.locator(".scene textarea[name=narration]").last.fill("A scene to remove.")
    chapter.locator(".scene button.remove").last.click()
    chapter.locator(".scene button.move-up").last.click()
    expect(chapter.locator(".scene textarea[name=narration]")).to_have_count(2)
    # And a chapter of its own at the end.
    page.click("button.add-chapter")
    page.locator(".chapter").last.locator("input.chapter-title").fill("Managers")
    page.locator(".chapter").last.locator("textarea[name=narration]").fill("Keep them in a password manager.")
    page.click("button.save")
    expect(page.locator(".page-heading .meta")).to_contain_text("Version 2")
    status, saved = api_get(page, f"/api/scripts/{script_id}")
    assert status == 200 and saved["version"] == 2
    narrations = [scene["narration"] for scene in saved["script"]["chapters"][0]["scenes"]]
    assert narrations == [ADDED_NARRATION, EDITED_NARRATION]
    assert [chapter["title"] for chapter in saved["script"]["chapters"]][-1] == "Managers"

    # What changed between version 1 and 2.
    page.select_option("select[name=from]", "1")
    page.select_option("select[name=to]", "2")
    page.click("button.compare")
    expect(page.locator(".changes .change-scene-narration")).to_contain_text(EDITED_NARRATION)
    expect(page.locator(".changes .change-sceneAdded").first).to_contain_text(ADDED_NARRATION)
    expect(page.locator(".changes .change-chapterAdded")).to_contain_text("Managers")
    studio.snap(page, "script-review-en")

    page.click("button.approve")
    expect(page.locator(".page-heading .badge-approved")).to_be_visible()
    expect(page.locator(".render-panel select[name=size]")).to_have_value("640x360")
    studio.snap(page, "script-approved-en")
    # The language switch rewrites the page in place, edits and all.
    page.select_option("#lang-switch", "ko")
    expect(page.locator("button.start-render")).to_have_text("렌더링 시작")
    studio.snap(page, "script-approved-ko")
    page.select_option("#lang-switch", "en")
    frames: list[dict[str, Any]] = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda frame: frames.append(json.loads(frame))))
    page.click("button.start-render")

    # Live progress over the WebSocket, to the end.
    page.wait_for_url(re.compile(r"/studio/videos/[^/]+/progress\?job="))
    job_id = page.url.rsplit("job=", 1)[1]
    expect(page.locator(".steps .step").first).to_be_visible()
    expect(page.locator("a.open-player")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    expect(page.locator(".percent")).to_have_text("100%")
    assert page.locator(".steps .step.done").count() >= 6
    studio.snap(page, "progress-completed-en")
    status, job = api_get(page, f"/api/render-jobs/{job_id}")
    assert status == 200 and job["status"] == "COMPLETED", job
    spec = job["spec"]
    assert (spec["theme"], spec["layout"], spec["title_card"]) == ("brand", "bullets", True), spec
    brand = {"background": "#0B3D2E", "accent": "#F5A623", "text": None, "logo": None, "font": None}
    assert spec["brand"] == brand, spec["brand"]
    # The page followed the job over the WebSocket, to the frame that says it completed (the page closes the
    # socket on the first frame with a final status, which may be the last `progress` one or the `status` one).
    assert [f["event"] for f in frames].count("progress") >= 2, frames
    assert frames[-1]["data"]["status"] == "COMPLETED", frames[-1]

    # The player plays the rendered video, with its subtitles track, chapters and downloads.
    page.click("a.open-player")
    page.wait_for_url(re.compile(r"/studio/videos/[^/?]+\?job="))
    played = wait_until_played(page)
    assert played["duration"] > 0
    assert abs(played["duration"] - job["duration_sec"]) <= DURATION_TOLERANCE_SEC, (played, job["duration_sec"])
    assert played["time"] > 0.3
    assert page.locator("video.player-video track[kind=subtitles]").count() == 1
    assert page.locator(".downloads a.download").count() == len(job["assets"])
    expect(page.locator(".chapters-list button.seek").first).to_be_visible()

    # A timecoded comment at the current time, then a review decision.
    page.evaluate("() => { const v = document.querySelector('video.player-video'); v.pause(); v.currentTime = 1.5; }")
    page.fill("textarea[name=comment]", "Slow down here.")
    page.click("button.add-comment")
    comment = page.locator(".comments .comment").first
    expect(comment).to_contain_text("Slow down here.")
    expect(comment.locator("button.seek")).to_have_text("0:01.5")
    comment.locator("input.resolve").check()
    expect(comment).to_have_class(re.compile("resolved"))
    page.fill("textarea[name=reason]", "Clear and short.")
    page.click("button.approve-video")
    expect(page.locator(".review-state .badge-approved")).to_be_visible()
    studio.snap(page, "player-en")

    # The library lists it; the same page in Korean.
    page.goto("/studio/")
    card = page.locator(f".video-card[data-video-id='{job['video_id']}']")
    expect(card).to_be_visible()
    expect(card.locator(".badge-completed")).to_be_visible()
    expect(card.locator("img.thumb")).to_have_js_property("complete", True)
    assert card.locator("img.thumb").evaluate("img => img.naturalWidth") > 0
    studio.snap(page, "library-en")
    # Search and filters narrow the list (and say so when nothing is left).
    page.fill("input[name=q]", "Strong passwords")
    expect(page.locator(".video-card")).to_have_count(1)
    page.select_option("select[name=review]", "REJECTED")
    expect(page.locator(".empty-state")).to_contain_text("No video matches")
    page.select_option("select[name=review]", "APPROVED")
    page.select_option("select[name=state]", "COMPLETED")
    expect(page.locator(".video-card")).to_have_count(1)
    assert "state=COMPLETED" in page.url and "review=APPROVED" in page.url
    page.select_option("#lang-switch", "ko")
    expect(page.locator("h1")).to_have_text("라이브러리")
    studio.snap(page, "library-ko")
    page.goto(f"/studio/videos/{job['video_id']}")
    expect(page.locator(".comments-card h2")).to_have_text("코멘트")
    page.wait_for_function("() => document.querySelector('video.player-video').readyState >= 2")
    studio.snap(page, "player-ko")
    page.set_viewport_size({"width": 420, "height": 860})
    studio.snap(page, "player-narrow-ko")
