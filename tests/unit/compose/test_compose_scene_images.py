"""Scene visuals from an image provider: the real ``openai`` client against a local fake Images API."""

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from tests.fake_images import FakeImages

from reelflow.compose.fonts import FontSet
from reelflow.compose.openai_images import OpenAIImages
from reelflow.compose.scene_images import cache_key, provider_size, scene_images
from reelflow.compose.settings import ComposeSettings
from reelflow.compose.slides import (
    CARD_LOGO_SHARE,
    SLIDE_LOGO_SHARE,
    SlideContent,
    layout_scene_slide,
    layout_title_card,
    logo_size,
    render_scene_slide,
    render_title_card,
    theme_for,
)
from reelflow.contracts import Scene
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.failures import MediaInvalidError, VisualError

MAGENTA = (230, 0, 200)
PROMPT = "a yellow hard hat on a workbench, flat illustration"


@pytest.fixture
def images() -> Iterator[FakeImages]:
    with FakeImages(colour=MAGENTA) as server:
        yield server


def _settings(images: FakeImages, timeout_sec: float = 10.0) -> ComposeSettings:
    return ComposeSettings(images_base_url=images.base_url, images_model="gpt-image-1", images_timeout_sec=timeout_sec)


async def _store(root: Path) -> DirectoryBlobStore:
    blobs = DirectoryBlobStore(root)
    await blobs.ensure_buckets("reelflow-media")
    return blobs


async def test_a_prompt_becomes_an_image_once_and_is_reused_from_the_cache(images: FakeImages, tmp_path: Path) -> None:
    scenes = [Scene(scene_id="s1", narration="Wear it.", visual=PROMPT), Scene(scene_id="s2", narration="No visual.")]
    blobs = await _store(tmp_path / "blobs")
    provider = OpenAIImages(_settings(images))
    try:
        first = await scene_images(
            scenes, (1280, 720), provider=provider, blobs=blobs, bucket="reelflow-media", folder=tmp_path / "a"
        )
        again = await scene_images(
            scenes, (1280, 720), provider=provider, blobs=blobs, bucket="reelflow-media", folder=tmp_path / "b"
        )
    finally:
        await provider.aclose()

    assert list(first) == ["s1"] and list(again) == ["s1"]
    [request] = images.requests  # the second job took it from the cache
    assert (request["model"], request["prompt"], request["size"], request["n"]) == (
        "gpt-image-1",
        PROMPT,
        "1536x1024",
        1,
    )
    with Image.open(first["s1"]) as made, Image.open(again["s1"]) as cached:
        assert made.format == cached.format == "PNG" and made.getpixel((0, 0)) == MAGENTA
    assert await blobs.stat("reelflow-media", cache_key("gpt-image-1", "1536x1024", PROMPT)) is not None


def test_the_provider_size_follows_the_frames_shape() -> None:
    assert provider_size((1280, 720), "gpt-image-1") == "1536x1024"
    assert provider_size((1080, 1920), "gpt-image-1") == "1024x1536"
    assert provider_size((1080, 1080), "gpt-image-1") == "1024x1024"
    assert provider_size((1920, 1080), "dall-e-3") == "1792x1024"


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (500, True), (503, True), (400, False), (401, False)])
async def test_a_refusal_is_visual_failed_and_retryable_only_when_a_retry_can_help(
    images: FakeImages, status: int, retryable: bool
) -> None:
    images.fail(status, "the provider says no")
    provider = OpenAIImages(_settings(images))
    try:
        with pytest.raises(VisualError) as raised:
            await provider.generate(PROMPT, "1024x1024")
    finally:
        await provider.aclose()
    assert raised.value.retryable is retryable
    assert f"({status})" in raised.value.message and "the provider says no" in raised.value.message
    assert raised.value.to_info().code == "VISUAL_FAILED"


async def test_a_provider_that_does_not_answer_hits_the_timeout(images: FakeImages) -> None:
    images.fail(500, "too late", delay_sec=3.0)
    provider = OpenAIImages(_settings(images, timeout_sec=0.5))
    try:
        with pytest.raises(VisualError, match="did not answer") as raised:
            await asyncio.wait_for(provider.generate(PROMPT, "1024x1024"), timeout=10)
    finally:
        await provider.aclose()
    assert raised.value.retryable


async def test_without_a_provider_prompts_are_left_out_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scenes = [Scene(scene_id="s1", narration="Wear it.", visual=PROMPT)]
    blobs = await _store(tmp_path / "blobs")
    found = await scene_images(
        scenes, (1280, 720), provider=None, blobs=blobs, bucket="reelflow-media", folder=tmp_path / "v"
    )
    assert found == {}


@pytest.mark.parametrize("size", [(1280, 720), (1080, 1920)])
def test_the_image_sits_beside_or_above_the_headline_whole(
    size: tuple[int, int], fonts: FontSet, tmp_path: Path
) -> None:
    picture = tmp_path / "wide.png"
    Image.new("RGB", (300, 200), MAGENTA).save(picture)
    content = SlideContent("안전모를 쓰세요", "1장", image=picture)
    layout = layout_scene_slide(content, size, fonts)
    assert layout.image_box is not None
    image_left, image_top, image_right, image_bottom = layout.image_box
    _, head_top, head_right, _ = layout.headline.ink_box
    if size[0] > size[1]:
        assert head_right <= image_left  # side by side
    else:
        assert image_bottom <= head_top  # picture above the text
    slide = render_scene_slide(content, size, fonts).convert("RGB")
    centre = ((image_left + image_right) // 2, (image_top + image_bottom) // 2)
    assert slide.getpixel(centre) == MAGENTA
    slide.save(tmp_path / f"slide-{size[0]}x{size[1]}.png")


GREEN = (20, 180, 60)
UPLOADED = f"uploads/{'c' * 64}.png"


async def test_an_uploaded_picture_or_video_is_taken_from_the_media_bucket_without_a_provider(tmp_path: Path) -> None:
    blobs = await _store(tmp_path / "blobs")
    picture = tmp_path / "upload.png"
    Image.new("RGB", (320, 180), GREEN).save(picture)
    await blobs.put_file("reelflow-media", UPLOADED, picture, "image/png")
    video_key = "uploads/" + "e" * 64 + ".webm"
    await blobs.put_bytes("reelflow-media", video_key, b"a video", "video/webm")
    scenes = [
        Scene(scene_id="s1", narration="Wear it.", visual=UPLOADED),
        Scene(scene_id="s2", narration="Drawn.", visual=PROMPT),
        Scene(scene_id="s3", narration="Watch.", visual=video_key),
    ]
    found = await scene_images(
        scenes, (1280, 720), provider=None, blobs=blobs, bucket="reelflow-media", folder=tmp_path / "v"
    )
    assert list(found) == ["s1", "s3"], "the prompt is left out without a provider; the uploads are not"
    with Image.open(found["s1"]) as fetched:
        assert fetched.getpixel((5, 5)) == GREEN
    assert found["s3"].suffix == ".webm" and found["s3"].read_bytes() == b"a video"


async def test_a_phone_photo_stored_sideways_is_turned_upright_as_its_exif_says(tmp_path: Path) -> None:
    blobs = await _store(tmp_path / "blobs")
    sideways = Image.new("RGB", (400, 200), GREEN)
    sideways.paste((200, 20, 20), (0, 0, 200, 200))  # red on the left as stored: on top once turned
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # "turn 90 degrees clockwise to view"
    photo = tmp_path / "photo.jpg"
    sideways.save(photo, exif=exif, quality=95)
    key = f"uploads/{'d' * 64}.jpg"
    await blobs.put_file("reelflow-media", key, photo, "image/jpeg")
    scenes = [Scene(scene_id="s1", narration="Look.", visual=key)]

    found = await scene_images(
        scenes, (1280, 720), provider=None, blobs=blobs, bucket="reelflow-media", folder=tmp_path
    )

    with Image.open(found["s1"]) as turned:
        assert turned.format == "PNG" and turned.size == (200, 400)
        top = turned.convert("RGB").getpixel((100, 50))
        assert isinstance(top, tuple) and top[0] > 150 and top[1] < 80, "the photo's left edge is its top once turned"


async def test_an_uploaded_picture_that_is_not_there_fails_the_job_naming_the_scene(tmp_path: Path) -> None:
    blobs = await _store(tmp_path / "blobs")
    scenes = [Scene(scene_id="s7", narration="Wear it.", visual=UPLOADED)]
    with pytest.raises(MediaInvalidError, match=r"scene s7's visual 'uploads/c+\.png' was not found") as caught:
        await scene_images(scenes, (1280, 720), provider=None, blobs=blobs, bucket="reelflow-media", folder=tmp_path)
    assert not caught.value.retryable


@pytest.mark.parametrize("size", [(1280, 720), (1080, 1920)])
def test_a_brand_logo_sits_top_right_on_slides_and_above_the_title_on_cards(
    size: tuple[int, int], fonts: FontSet, tmp_path: Path
) -> None:
    logo = tmp_path / "logo.png"
    mark = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    mark.paste(Image.new("RGBA", (400, 200), (*GREEN, 255)), (0, 0), Image.new("L", (400, 200), 255))
    mark.save(logo)
    theme = replace(theme_for("dark"), logo=logo)
    content = SlideContent(
        "Lift with care", "A chapter title long enough to run into the top right corner of the slide"
    )
    layout = layout_scene_slide(content, size, fonts, logo=logo_size(logo, size, SLIDE_LOGO_SHARE))
    assert layout.logo_box is not None and layout.chapter is not None
    logo_left, logo_top, logo_right, logo_bottom = layout.logo_box
    assert (logo_right - logo_left) == 2 * (logo_bottom - logo_top), "the logo keeps its shape"
    assert layout.chapter.ink_box[2] <= logo_left, "the chapter title keeps clear of the logo"
    slide = render_scene_slide(content, size, fonts, theme).convert("RGB")
    assert slide.getpixel(((logo_left + logo_right) // 2, (logo_top + logo_bottom) // 2)) == GREEN
    slide.save(tmp_path / f"logo-slide-{size[0]}x{size[1]}.png")

    card = render_title_card("Safe lifting", "Basics", size, fonts, theme).convert("RGB")
    card_layout = layout_title_card("Safe lifting", "Basics", size, fonts, logo=logo_size(logo, size, CARD_LOGO_SHARE))
    assert card_layout.logo_box is not None
    card_left, card_top, card_right, card_bottom = card_layout.logo_box
    assert card_bottom <= card_layout.title.ink_box[1], "the logo is above the title"
    assert abs((card_left + card_right) - size[0]) <= 1, "centred"
    assert card.getpixel(((card_left + card_right) // 2, (card_top + card_bottom) // 2)) == GREEN
    card.save(tmp_path / f"logo-card-{size[0]}x{size[1]}.png")


@pytest.mark.parametrize("size", [(1280, 720), (1080, 1920)])
def test_a_full_frame_picture_fills_the_slide_darkened_under_light_text(
    size: tuple[int, int], fonts: FontSet, tmp_path: Path
) -> None:
    picture = tmp_path / "photo.png"
    photo = Image.new("RGB", (800, 600), (40, 120, 220))
    photo.paste((250, 200, 40), (0, 0, 400, 600))  # left half yellow, right half blue
    photo.save(picture)
    scene = Scene(scene_id="s1", narration="Lift with your legs.", visual=UPLOADED, visual_placement="full_frame")
    content = replace(SlideContent.for_scene("Basics", scene), image=picture)
    assert content.picture_behind
    layout = layout_scene_slide(content, size, fonts)
    assert layout.image_box is None, "no box beside the text: the picture is behind it"

    slide = render_scene_slide(content, size, fonts, theme_for("light")).convert("RGB")
    slide.save(tmp_path / f"full-frame-{size[0]}x{size[1]}.png")
    corner = slide.getpixel((4, size[1] - 4))  # darkened yellow, from the left half (covered, centre-cropped)
    assert isinstance(corner, tuple)
    assert abs(corner[0] - 125) <= 6 and abs(corner[1] - 100) <= 6 and abs(corner[2] - 20) <= 6, corner
    left, top, right, bottom = layout.headline.ink_box
    levels = slide.crop((left, top, right, bottom)).convert("L").histogram()
    lightest = max(level for level, count in enumerate(levels) if count)
    assert lightest >= 240, "the headline is light on the picture, whatever the theme"
