"""How burned subtitles look, chosen in the studio: the fields show only for burned subtitles, the outline's or the
box's as the look needs, a sample line follows every choice, the script's review keeps the look, and the render
draws it (magenta text in a box at the top of the frame, never at the bottom)."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from reelflow.contracts import SubtitleStyle
from tests.browser.conftest import StudioPages
from tests.browser.studio_flows import completed_job, fill_small_lesson, sign_in
from tests.media_probes import frames_each_second

pytestmark = [pytest.mark.connected, pytest.mark.browser]

LESSON = """# Strong passwords

A strong password is long. Use a phrase of four or more words.

Never use the same password twice, and keep them in a password manager.
"""
LOOK = SubtitleStyle(
    font="myeongjo", size=1.4, colour="#FF00FF", box=True, box_colour="#1A237E", box_opacity=0.8, position="top"
)
BAND_SHARE = 0.35  # the top and the bottom bands of the frame that are looked at
MIN_MAGENTA_PIXELS = 200  # a line of 1.4x subtitles at 640x360 has thousands


def set_range(control: Locator, value: float) -> None:
    """Move a slider as a person would: its value, then the input event the page listens for."""
    control.evaluate(
        "(input, value) => { input.value = value; input.dispatchEvent(new Event('input', { bubbles: true })); }",
        str(value),
    )


def snap_look(studio: StudioPages, page: Page, name: str) -> None:
    look = page.locator(".subtitle-style").first
    look.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    look.screenshot(path=studio.screenshots / f"{name}.png")


def magenta_pixels(frame: Image.Image, top: bool) -> int:
    width, height = frame.size
    band = (0, 0, width, round(height * BAND_SHARE)) if top else (0, round(height * (1 - BAND_SHARE)), width, height)
    pixels = np.asarray(frame.crop(band).convert("RGB"), dtype=np.int16)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return int(np.count_nonzero((red > 180) & (blue > 180) & (green < 90)))


def test_a_subtitle_look_chosen_in_the_studio_is_the_one_burned_into_the_video(
    studio: StudioPages, tmp_path: Path
) -> None:
    page = studio.new_page()
    sign_in(page)
    page.goto("/studio/new")
    look = page.locator(".subtitle-style")
    expect(look).to_be_visible()  # subtitles are burned in (and a file) unless chosen otherwise
    page.select_option("select[name=subtitles]", "sidecar")
    expect(look).to_be_hidden()
    page.select_option("select[name=subtitles]", "burn")
    expect(look).to_be_visible()
    expect(page.locator("input[name=subtitle_outline]")).to_be_visible()
    expect(page.locator("input[name=subtitle_box_colour]")).to_be_hidden()
    snap_look(studio, page, "subtitle-look-default-en")

    page.select_option("select[name=subtitle_font]", LOOK.font)
    set_range(page.locator("input[name=subtitle_size]"), LOOK.size)
    expect(look.locator(".range-value").first).to_have_text("1.4×")
    page.fill("input[name=subtitle_colour]", LOOK.colour.lower())
    page.check("input[name=subtitle_box]")
    expect(page.locator("input[name=subtitle_outline]")).to_be_hidden()  # a box stands for the outline
    page.fill("input[name=subtitle_box_colour]", LOOK.box_colour.lower())
    set_range(page.locator("input[name=subtitle_box_opacity]"), LOOK.box_opacity)
    expect(look.locator(".range-value").last).to_have_text("80%")
    page.select_option("select[name=subtitle_position]", LOOK.position)

    # The sample line follows: its colour, its box, its face, and its place at the top of the sample frame.
    line = look.locator(".subtitle-sample-line")
    expect(line).to_have_css("color", "rgb(255, 0, 255)")
    expect(line).to_have_css("background-color", "rgba(26, 35, 126, 0.8)")
    expect(line).to_have_css("font-family", 'NanumMyeongjo, "Nanum Myeongjo", serif')
    expect(look.locator(".subtitle-sample")).to_have_class("subtitle-sample at-top")
    frame_box, line_box = look.locator(".subtitle-sample").bounding_box(), line.bounding_box()
    assert frame_box and line_box and line_box["y"] - frame_box["y"] < frame_box["height"] / 3, (frame_box, line_box)
    snap_look(studio, page, "subtitle-look-en")
    page.select_option("#lang-switch", "ko")
    expect(look.locator(".field-label").first).to_have_text("영상에 입힌 자막 모양")
    snap_look(studio, page, "subtitle-look-ko")
    page.set_viewport_size({"width": 420, "height": 860})
    snap_look(studio, page, "subtitle-look-narrow-ko")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.select_option("#lang-switch", "en")

    fill_small_lesson(page, "Strong passwords", LESSON, "en")
    page.uncheck("input[name=title_card]")
    studio.snap(page, "new-lesson-subtitle-look-en")
    page.click("form button[type=submit]")

    # The script's review keeps the look chosen on New lesson.
    page.wait_for_url("**/studio/scripts/*")
    expect(page.locator(".scene textarea[name=narration]").first).to_be_visible(timeout=30_000)
    page.click("button.approve")
    expect(page.locator(".page-heading .badge-approved")).to_be_visible()
    panel = page.locator(".render-panel")
    expect(panel.locator("select[name=subtitle_font]")).to_have_value(LOOK.font)
    expect(panel.locator("input[name=subtitle_box]")).to_be_checked()
    expect(panel.locator("select[name=subtitle_position]")).to_have_value(LOOK.position)
    page.click("button.start-render")

    job = completed_job(page)
    assert job["spec"]["subtitle_style"] == LOOK.model_dump(), job["spec"]["subtitle_style"]
    video = page.context.request.get(f"/api/assets/{job['job_id']}/video")
    assert video.ok, video.status
    (tmp_path / "lesson.mp4").write_bytes(video.body())
    frames = frames_each_second(tmp_path / "lesson.mp4", tmp_path / "frames")
    assert frames, "no frame decoded"
    top = [magenta_pixels(frame, top=True) for frame in frames]
    bottom = [magenta_pixels(frame, top=False) for frame in frames]
    assert max(top) >= MIN_MAGENTA_PIXELS, f"no magenta subtitle at the top of any second's frame: {top}"
    assert max(bottom) == 0, f"magenta at the bottom of the frame: {bottom}"
    shown = top.index(max(top))
    frames[shown].save(studio.screenshots / "subtitle-look-frame.png")
