"""A scene's picture or video, added in the script's review: uploaded at once, saved as the scene's ``visual`` (with
its placement, and where a video starts and ends) in the next version, listed among the version's changes, and
shown by the render: a green picture beside the first scene's text, a red video filling the frame under the
second's."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import StudioPages
from tests.browser.studio_flows import api_get, completed_job, fill_small_lesson, sign_in, upload_key
from tests.media_probes import frames_each_second, run_tool

pytestmark = [pytest.mark.connected, pytest.mark.browser]

LESSON = """# Strong passwords

A strong password is long. Use a phrase of four or more words.

Never use the same password twice, and keep them in a password manager.
"""
GREEN, RED = (0, 200, 0), (220, 0, 0)
MIN_GREEN_SHARE = 0.05  # a picture beside the text covers about a third of the frame
MIN_RED_SHARE = 0.4  # a video filling the frame, darkened under the text, is red nearly everywhere


def green_picture(folder: Path) -> Path:
    path = folder / "green.png"
    Image.new("RGB", (320, 240), GREEN).save(path)
    return path


def red_video(folder: Path) -> Path:
    path = folder / "red.mp4"
    run_tool(
        "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0xDC0000:s=320x240:r=25:d=2",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path),
    )  # fmt: skip
    return path


def share_of(frame: Image.Image, colour: tuple[int, int, int]) -> float:
    """The share of the frame's pixels whose strongest channel is ``colour``'s, by a clear margin."""
    pixels = np.asarray(frame.convert("RGB"), dtype=np.int16)
    channel = int(np.argmax(colour))
    others = [pixels[..., index] for index in range(3) if index != channel]
    strong = pixels[..., channel]
    found = (strong > 90) & (strong > others[0] + 60) & (strong > others[1] + 60)
    return float(np.count_nonzero(found)) / found.size


def open_visual(page: Page, scene: int) -> None:
    box = page.locator(".scene").nth(scene).locator("details.scene-visual-box")
    box.locator("summary").click()
    expect(box.locator("input.visual-file")).to_be_attached()


def test_a_picture_and_a_video_added_to_scenes_in_the_review_are_saved_and_rendered(
    studio: StudioPages, tmp_path: Path
) -> None:
    picture, video = green_picture(tmp_path), red_video(tmp_path)
    page = studio.new_page()
    sign_in(page)
    page.goto("/studio/new")
    fill_small_lesson(page, "Strong passwords", LESSON, "en")
    page.select_option("select[name=subtitles]", "sidecar")
    page.uncheck("input[name=title_card]")
    page.click("form button[type=submit]")
    page.wait_for_url("**/studio/scripts/*")
    script_id = page.url.rsplit("/", 1)[1]
    scenes = page.locator(".scene")
    expect(scenes.first.locator("textarea[name=narration]")).to_be_visible(timeout=30_000)
    assert scenes.count() >= 2
    expect(scenes.first.locator("select[name=visual_placement]")).to_be_hidden()  # folded away, no visual yet

    open_visual(page, 0)
    scenes.nth(0).locator("input.visual-file").set_input_files(str(picture))
    expect(scenes.nth(0).locator(".visual-status")).to_have_text("green.png (320×240) is ready")
    expect(scenes.nth(0).locator("select[name=visual_placement]")).to_have_value("beside")
    expect(page.locator(".dirty-note")).to_be_visible()
    open_visual(page, 1)
    scenes.nth(1).locator("input.visual-file").set_input_files(str(video))
    expect(scenes.nth(1).locator(".visual-status")).to_have_text("red.mp4 (2.0 s) is ready")
    scenes.nth(1).locator("select[name=visual_placement]").select_option("full_frame")
    expect(scenes.nth(0).locator("input[name=visual_start_sec]")).to_be_hidden()  # a picture has no start
    scenes.nth(1).locator("input[name=visual_start_sec]").fill("0.5")
    scenes.nth(1).locator("input[name=visual_end_sec]").fill("1.5")
    scenes.nth(1).scroll_into_view_if_needed()
    studio.snap(page, "script-scene-visuals-en")
    page.select_option("#lang-switch", "ko")
    expect(scenes.nth(1).locator(".visual-status")).to_have_text("red.mp4 (2.0초) 준비됨")
    studio.snap(page, "script-scene-visuals-ko")
    page.select_option("#lang-switch", "en")

    page.click("button.save")
    expect(page.locator(".page-heading .meta")).to_contain_text("Version 2")
    status, saved = api_get(page, f"/api/scripts/{script_id}")
    assert status == 200, saved
    first, second = saved["script"]["chapters"][0]["scenes"][:2]
    assert (first["visual"], first["visual_placement"]) == (upload_key(picture, "png"), "beside"), first
    assert (second["visual"], second["visual_placement"]) == (upload_key(video, "mp4"), "full_frame"), second
    assert (first["visual_start_sec"], first["visual_end_sec"]) == (0, None)
    assert (second["visual_start_sec"], second["visual_end_sec"]) == (0.5, 1.5)
    # After the save the pickers show the kept uploads, unfolded.
    expect(scenes.nth(1).locator(".visual-picker .file-name")).to_have_text("Chosen before")
    page.select_option("select[name=from]", "1")
    page.select_option("select[name=to]", "2")
    page.click("button.compare")
    expect(page.locator(".changes .change-scene-visual")).to_have_count(2)
    expect(page.locator(".changes .change-scene-visual_placement")).to_have_count(1)
    expect(page.locator(".changes .change-scene-visual_start_sec")).to_have_count(1)
    expect(page.locator(".changes .change-scene-visual_end_sec")).to_have_count(1)

    page.click("button.approve")
    expect(page.locator(".page-heading .badge-approved")).to_be_visible()
    page.click("button.start-render")
    job = completed_job(page)
    answer = page.context.request.get(f"/api/assets/{job['job_id']}/video")
    assert answer.ok, answer.status
    (tmp_path / "lesson.mp4").write_bytes(answer.body())
    frames = frames_each_second(tmp_path / "lesson.mp4", tmp_path / "frames")
    greens = [round(share_of(frame, GREEN), 3) for frame in frames]
    reds = [round(share_of(frame, RED), 3) for frame in frames]
    assert max(greens) >= MIN_GREEN_SHARE, f"the green picture is in no second's frame: {greens}"
    assert max(reds) >= MIN_RED_SHARE, f"the red video fills no second's frame: {reds}"
    frames[greens.index(max(greens))].save(studio.screenshots / "scene-visual-picture-frame.png")
    frames[reds.index(max(reds))].save(studio.screenshots / "scene-visual-video-frame.png")
