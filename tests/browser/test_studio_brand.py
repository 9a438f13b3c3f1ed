"""The brand theme's logo and font in the studio: uploaded from New lesson, kept for the script's review, refused
when a file is not what it is chosen as, and sent as ``brand.logo`` / ``brand.font`` of the render. The music
picker is the same upload picker, so the lesson takes a track too."""

import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from tests.browser.conftest import StudioPages
from tests.browser.studio_flows import completed_job, fill_small_lesson, sign_in, upload_key
from tests.media_probes import make_tone

pytestmark = [pytest.mark.connected, pytest.mark.browser]

LESSON = """# 강한 비밀번호

강한 비밀번호는 깁니다. 네 단어 이상의 문장을 쓰세요.
"""
FONT = Path("/usr/share/fonts/truetype/nanum/NanumMyeongjo.ttf")


def logo_png(folder: Path) -> Path:
    """A small logo with a transparent background: an orange disc with a white bar."""
    picture = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((8, 8, 152, 152), fill=(245, 166, 35, 255))
    draw.rectangle((40, 70, 120, 90), fill=(255, 255, 255, 255))
    path = folder / "logo.png"
    picture.save(path)
    return path


def snap_brand_options(studio: StudioPages, page: Page, name: str) -> None:
    options = page.locator(".brand-options")
    options.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    options.screenshot(path=studio.screenshots / f"{name}.png")


def test_a_brand_logo_and_font_uploaded_in_the_studio_draw_the_lesson(studio: StudioPages, tmp_path: Path) -> None:
    if not FONT.exists():
        pytest.skip("the Nanum fonts are not installed (apt-get install fonts-nanum)")
    logo = logo_png(tmp_path)
    not_a_font = tmp_path / "notes.ttf"
    not_a_font.write_text("These are notes, not a font.\n", encoding="utf-8")
    music = make_tone(tmp_path / "tune.wav", seconds=2.0, volume=0.5)

    page = studio.new_page()
    sign_in(page)
    page.goto("/studio/new")
    expect(page.locator("input.logo-file")).to_be_hidden()
    page.select_option("select[name=theme]", "brand")

    # A file that is not a font is refused by the gateway, and the picker says so with its code and message.
    page.set_input_files("input.font-file", str(not_a_font))
    refusal = page.locator(".font-picker .error")
    expect(refusal.locator(".error-code")).to_have_text("MEDIA_INVALID")
    expect(refusal.locator(".error-message")).to_contain_text("notes.ttf")
    snap_brand_options(studio, page, "brand-font-refused-en")
    # A picture is an upload, but not a font: refused at once rather than by the render.
    page.set_input_files("input.font-file", str(logo))
    expect(refusal.locator(".error-code")).to_have_text("WRONG_KIND")
    expect(refusal.locator(".error-message")).to_contain_text("needs a font")
    page.click("button.font-remove")
    expect(refusal).to_have_count(0)
    expect(page.locator(".font-picker .file-name")).to_have_text("No file chosen")

    page.set_input_files("input.logo-file", str(logo))
    expect(page.locator(".logo-picker .upload-status")).to_have_text("logo.png (160×160) is ready")
    expect(page.locator(".logo-picker img.logo-thumb")).to_have_js_property("complete", True)
    assert page.locator(".logo-picker img.logo-thumb").evaluate("img => img.naturalWidth") == 160
    page.set_input_files("input.font-file", str(FONT))
    expect(page.locator(".font-picker .upload-status")).to_have_text("NanumMyeongjo.ttf is ready", timeout=30_000)
    snap_brand_options(studio, page, "brand-options-en")
    page.select_option("#lang-switch", "ko")
    expect(page.locator(".font-picker .upload-status")).to_have_text("NanumMyeongjo.ttf 준비됨")
    snap_brand_options(studio, page, "brand-options-ko")
    page.select_option("#lang-switch", "en")

    fill_small_lesson(page, "강한 비밀번호", LESSON, "ko")
    page.select_option("select[name=subtitles]", "sidecar")
    page.set_input_files("input.music-file", str(music))
    expect(page.locator(".music-picker .upload-status")).to_have_text("tune.wav (2.0 s) is ready")
    studio.snap(page, "new-lesson-brand-en")
    # Removed, chosen again and sent at once: the page waits for the upload to end before it writes the script.
    page.click("button.font-remove")
    expect(page.locator(".font-picker .upload-status")).to_be_hidden()
    page.set_input_files("input.font-file", str(FONT))
    page.click("form button[type=submit]")

    # The script's review keeps the logo and the font chosen on New lesson.
    page.wait_for_url("**/studio/scripts/*")
    expect(page.locator(".scene textarea[name=narration]").first).to_be_visible(timeout=30_000)
    page.click("button.approve")
    expect(page.locator(".page-heading .badge-approved")).to_be_visible()
    expect(page.locator(".render-panel .logo-picker .file-name")).to_have_text("Chosen before")
    expect(page.locator(".render-panel .logo-picker .upload-status")).to_have_text(re.compile(r"^uploads/.*\.png$"))
    expect(page.locator(".render-panel .font-picker .upload-status")).to_have_text(re.compile(r"^uploads/.*\.ttf$"))
    expect(page.locator(".render-panel .music-picker .upload-status")).to_have_text(re.compile(r"^uploads/.*\.wav$"))
    snap_brand_options(studio, page, "brand-options-review-en")
    page.set_viewport_size({"width": 420, "height": 860})
    snap_brand_options(studio, page, "brand-options-review-narrow-en")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.click("button.start-render")

    job = completed_job(page)
    job_id = job["job_id"]
    brand = job["spec"]["brand"]
    assert brand["logo"] == upload_key(logo, "png"), brand
    assert brand["font"] == upload_key(FONT, "ttf"), brand
    assert job["spec"]["music"] == {"media_key": upload_key(music, "wav"), "volume": 0.15}, job["spec"]["music"]

    # The thumbnail, to look at: the logo above the title, in the brand's font.
    thumbnail = page.context.request.get(f"/api/assets/{job_id}/thumbnail")
    assert thumbnail.ok, thumbnail.status
    (studio.screenshots / "brand-thumbnail.jpg").write_bytes(thumbnail.body())
