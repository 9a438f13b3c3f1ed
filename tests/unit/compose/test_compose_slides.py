"""Slide layout: text always inside the title-safe area and clear of the subtitle zone, at every frame size."""

from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFont

from reelflow.compose.fonts import FontSet
from reelflow.compose.slides import (
    SUBTITLE_ZONE,
    SlideContent,
    content_area,
    fit_text,
    headline_from_narration,
    layout_scene_slide,
    render_background,
    render_scene_slide,
    render_title_card,
    save_jpeg,
    save_png,
    wrap_to_width,
)
from reelflow.contracts import Scene
from reelflow.runtime.failures import RenderError

SIZES = [(1280, 720), (1920, 1080), (1080, 1920), (1080, 1080)]
VERY_LONG = (
    "Supercalifragilisticexpialidocious-token-without-any-spaces-at-all "
    + "피싱 메일은 긴급한 어조로 링크 클릭을 유도하고 비밀번호 입력을 요구합니다 " * 10
    + "Always verify the sender through a second channel before you act."
)


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_slide_has_the_frame_size(size: tuple[int, int], fonts: FontSet) -> None:
    image = render_scene_slide(SlideContent("피싱이란?", "1장. 피싱"), size, fonts)

    assert image.size == size
    assert image.mode == "RGB"


@pytest.mark.parametrize("size", [(1080, 1920), (1280, 720)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_very_long_text_is_shrunk_to_fit_never_cut(size: tuple[int, int], fonts: FontSet) -> None:
    content = SlideContent(VERY_LONG, "Chapter 2: a chapter title long enough that it has to wrap or shrink a lot")
    layout = layout_scene_slide(content, size, fonts)
    area = content_area(size)

    assert _inside(layout.headline.ink_box, area)
    assert layout.chapter is not None and _inside(layout.chapter.ink_box, area)
    assert layout.headline.ink_box[3] <= size[1] * (1 - SUBTITLE_ZONE)
    # nothing was dropped: the lines hold every character of the text
    assert "".join(layout.headline.lines).replace(" ", "") == VERY_LONG.replace(" ", "")
    assert layout.chapter.ink_box[3] < layout.headline.ink_box[1]


@pytest.mark.parametrize("size", [(1280, 720), (1080, 1920)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_drawn_pixels_stay_out_of_the_subtitle_zone(size: tuple[int, int], fonts: FontSet) -> None:
    slide = render_scene_slide(SlideContent(VERY_LONG, "Chapter"), size, fonts)
    changed = ImageChops.difference(slide, render_background(size)).getbbox()

    assert changed is not None  # text was drawn
    left, top, right, bottom = changed
    assert left >= 0 and top >= 0 and right <= size[0]
    assert bottom <= size[1] * (1 - SUBTITLE_ZONE)


def test_short_text_is_large_and_centred(fonts: FontSet) -> None:
    layout = layout_scene_slide(SlideContent("피싱이란?", "1장"), (1280, 720), fonts)
    left, _, right, _ = layout.headline.ink_box

    assert layout.headline.font_size >= 70
    assert abs((left + right) / 2 - 640) <= 4


def test_shrinking_is_preferred_to_splitting_a_word(fonts: FontSet) -> None:
    layout = layout_scene_slide(SlideContent("Internationalization", ""), (1080, 1920), fonts)

    assert layout.headline.lines == ("Internationalization",)


def test_korean_wraps_at_spaces(fonts: FontSet) -> None:
    text = "의심스러운 링크는 누르지 말고 보낸 사람을 다른 경로로 확인하세요"
    block = fit_text(text, fonts.bold, (0, 0, 400, 1000), max_size=60)

    assert len(block.lines) > 1
    assert " ".join(block.lines).split() == text.split()  # breaks only where spaces were


def test_overlong_token_is_broken_by_character(fonts: FontSet) -> None:
    font = ImageFont.truetype(str(fonts.regular), 40)
    token = "가나다라마바사아자차카타파하" * 3
    lines = wrap_to_width(token, font, 300)

    assert lines is not None and len(lines) > 1
    assert "".join(lines) == token
    assert all(font.getlength(line) <= 300 for line in lines)
    assert wrap_to_width(token, font, 300, break_words=False) is None


def test_text_that_cannot_fit_raises_a_clear_error(fonts: FontSet) -> None:
    with pytest.raises(RenderError, match="does not fit"):
        fit_text("x" * 400, fonts.regular, (0, 0, 40, 20), max_size=40)


def test_headline_falls_back_to_the_first_clause_of_the_narration() -> None:
    scene = Scene(scene_id="s", narration="피싱은 사기입니다. 조심하세요.")

    assert SlideContent.for_scene("1장", scene).headline == "피싱은 사기입니다"
    assert SlideContent.for_scene("1장", scene.model_copy(update={"on_screen_text": "피싱?"})).headline == "피싱?"


def test_long_narration_headline_is_a_clause_or_a_word_boundary() -> None:
    clause = headline_from_narration(
        "When an email asks for your password, even if it looks like it came from IT, stop and call them."
    )
    no_punctuation = headline_from_narration(" ".join(["word"] * 40), max_chars=30)

    assert clause == "When an email asks for your password"
    assert no_punctuation.endswith("…")
    assert len(no_punctuation) <= 31
    assert all(part == "word" for part in no_punctuation.rstrip("…").split())


def test_title_card_is_saved_as_jpeg(fonts: FontSet, tmp_path: Path) -> None:
    card = render_title_card("피싱 예방 교육: 의심하고 확인하기", "1장. 피싱이란 무엇인가", (1280, 720), fonts)
    path = save_jpeg(card, tmp_path / "thumb.jpg")

    with Image.open(path) as reopened:
        assert reopened.format == "JPEG"
        assert reopened.size == (1280, 720)
    # the card is more than the bare background
    assert ImageChops.difference(card, render_background((1280, 720))).getbbox() is not None


def test_slide_is_saved_as_png(fonts: FontSet, tmp_path: Path) -> None:
    path = save_png(render_scene_slide(SlideContent("Hi", ""), (320, 180), fonts), tmp_path / "a" / "s.png")

    with Image.open(path) as reopened:
        assert (reopened.format, reopened.size) == ("PNG", (320, 180))
