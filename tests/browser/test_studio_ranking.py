"""The ranking-short builder: add clips and a picture (chosen or dropped; each uploads with progress), reorder them
by dragging, label and trim them, open with a title card, render, play."""

import base64
import subprocess
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from playwright.sync_api import expect

from tests.browser.conftest import StudioPages
from tests.browser.studio_flows import completed_job, sign_in, wait_until_played

pytestmark = [pytest.mark.connected, pytest.mark.browser]


def make_clip(path: Path, size: str, seconds: float, tag: str) -> Path:
    """A small H.264 test-pattern clip with a tone, unique per test so its upload is new."""
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-nostdin", "-y"),
            *("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25", "-f", "lavfi", "-i", "sine=frequency=440"),
            *("-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"),
            *("-metadata", f"comment={tag}", str(path)),
        ],
        check=True,
        timeout=60,
    )
    return path


def _tagged(tag: str) -> PngImagePlugin.PngInfo:
    """A text chunk that makes the picture's bytes, and so its upload, new for each test."""
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", tag)
    return info


def test_a_ranking_short_built_in_the_browser(studio: StudioPages, tmp_path: Path, unique_id: str) -> None:
    clips = [
        make_clip(tmp_path / "first.mp4", "320x240", 1.5, unique_id),
        make_clip(tmp_path / "second.mp4", "240x320", 1.2, unique_id),
    ]
    page = studio.new_page()
    sign_in(page)
    page.goto("/studio/ranking")
    page.fill("input[name=title]", "Top two patterns")
    # One clip through the file chooser, one dropped onto the drop zone as a file from the desktop would be.
    page.set_input_files("input.clip-files", [str(clips[0])])
    expect(page.locator(".clip-list .clip")).to_have_count(1)
    dropped = page.evaluate_handle(
        """([name, data]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: 'video/mp4' }));
            return transfer;
        }""",
        [clips[1].name, base64.b64encode(clips[1].read_bytes()).decode()],
    )
    page.dispatch_event(".dropzone", "dragover", {"dataTransfer": dropped})
    page.dispatch_event(".dropzone", "drop", {"dataTransfer": dropped})

    rows = page.locator(".clip-list .clip")
    expect(rows).to_have_count(2)
    expect(page.locator("button.render")).to_be_enabled(timeout=30_000)
    expect(rows.locator("img.clip-thumb")).to_have_count(2)
    assert [rows.nth(i).get_attribute("data-name") for i in range(2)] == ["first.mp4", "second.mp4"]

    # Drag the second clip above the first: it plays first, so it gets the higher rank.
    rows.nth(1).drag_to(rows.nth(0))
    expect(rows.nth(0)).to_have_attribute("data-name", "second.mp4")
    expect(rows.nth(0).locator(".rank")).to_have_text("#2")
    rows.nth(0).locator("input[name=label]").fill("tall")
    rows.nth(1).locator("input[name=label]").fill("wide")
    rows.nth(1).locator("input[name=start]").fill("0.2")
    rows.nth(1).locator("input[name=end]").fill("1.4")
    rows.nth(0).locator("input[name=keep_audio]").uncheck()
    # A picture is a clip too: it shows for its end (here 1 s), with no sound of its own.
    picture = tmp_path / "photo.png"
    Image.new("RGB", (300, 200), (40, 160, 90)).save(picture, pnginfo=_tagged(unique_id))
    page.set_input_files("input.clip-files", [str(picture)])
    expect(rows).to_have_count(3)
    expect(page.locator("button.render")).to_be_enabled(timeout=30_000)
    expect(rows.locator("img.clip-thumb")).to_have_count(3)
    expect(rows.nth(2).locator("input[name=keep_audio]")).to_be_disabled()
    rows.nth(2).locator("input[name=end]").fill("1")
    page.check("input[name=title_card]")
    page.select_option("select[name=size]", "540x960")
    studio.snap(page, "ranking-builder-en")
    page.click("button.render")

    job = completed_job(page)
    studio.snap(page, "ranking-progress-en")
    spec_clips = job["spec"]["clips"]
    assert [(c["rank"], c["label"], c["keep_audio"]) for c in spec_clips] == [
        (3, "tall", False),
        (2, "wide", True),
        (1, "photo", False),
    ]
    assert (spec_clips[1]["start"], spec_clips[1]["end"]) == (0.2, 1.4)
    assert spec_clips[2]["end"] == 1.0
    assert (job["spec"]["size"], job["spec"]["title_card"]) == ("540x960", True)

    page.click("a.open-player")
    played = wait_until_played(page)
    assert abs(played["duration"] - job["duration_sec"]) <= 0.5, (played, job["duration_sec"])
    assert played["time"] > 0.3
    studio.snap(page, "ranking-player-en")
