"""Slide layout: text always 7% in from every edge and clear of the subtitle band, at every frame size."""

import itertools
import math
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from reelflow.compose.fonts import FontSet
from reelflow.compose.slides import (
    HEADLINE_MAX_SHARE,
    SlideContent,
    content_area,
    headline_from_narration,
    layout_scene_slide,
    layout_title_card,
    layout_unit,
    render_background,
    render_scene_slide,
    render_title_card,
    save_jpeg,
    save_png,
    theme_for,
)
from reelflow.compose.text_fitting import ELLIPSIS
from reelflow.contracts import BrandColours, Chapter, LessonSpec, Scene, VideoScript

SIZES = [(1280, 720), (1920, 1080), (1080, 1920), (1080, 1080)]
# From the brief the layout must meet, written out rather than imported so a wrong constant cannot pass.
SAFE_INSET = 0.07
SUBTITLE_BAND = 0.22
KEN_BURNS_ZOOM = 1.06
VERY_LONG = (
    "Supercalifragilisticexpialidocious-token-without-any-spaces-at-all "
    + "피싱 메일은 긴급한 어조로 링크 클릭을 유도하고 비밀번호 입력을 요구합니다 " * 10
    + "Always verify the sender through a second channel before you act."
)
LONG_CHAPTER = "Chapter 2: a chapter title long enough that it has to wrap or shrink a lot, and then some more words"
LONG_TITLE = "피싱 예방 교육: 의심하고, 확인하고, 신고하기 — 회사 메일과 문자에서 사기를 알아보는 법 " * 2


def _size_id(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _safe_box(size: tuple[int, int]) -> tuple[int, int, int, int]:
    """7% in from every edge."""
    width, height = size
    return (
        math.ceil(width * SAFE_INSET),
        math.ceil(height * SAFE_INSET),
        width - math.ceil(width * SAFE_INSET),
        height,
    )


def _above_the_band_after_zoom(size: tuple[int, int]) -> float:
    """The lowest a slide's text may reach so that even a 1.06 zoom anchored at the top keeps it above the band."""
    return size[1] * (1 - SUBTITLE_BAND) / KEN_BURNS_ZOOM


def _drawn_box(image: Image.Image, size: tuple[int, int]) -> tuple[int, int, int, int]:
    changed = ImageChops.difference(image, render_background(size)).getbbox()
    assert changed is not None  # something was drawn
    return changed


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_slide_has_the_frame_size(size: tuple[int, int], fonts: FontSet) -> None:
    image = render_scene_slide(SlideContent("피싱이란?", "1장. 피싱"), size, fonts)

    assert image.size == size
    assert image.mode == "RGB"


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_content_area_is_seven_percent_in_and_above_the_zoomed_subtitle_band(size: tuple[int, int]) -> None:
    width, height = size
    left, top, right, bottom = content_area(size)

    assert left >= SAFE_INSET * width and right <= (1 - SAFE_INSET) * width
    assert top >= SAFE_INSET * height
    assert bottom <= _above_the_band_after_zoom(size) < (1 - SUBTITLE_BAND) * height


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_long_text_and_chapter_fit_inside_the_safe_area_above_the_band(size: tuple[int, int], fonts: FontSet) -> None:
    layout = layout_scene_slide(SlideContent(VERY_LONG, LONG_CHAPTER), size, fonts)
    area = content_area(size)

    assert layout.chapter is not None
    for block in (layout.chapter, layout.headline):
        assert _inside(block.ink_box, area)
        assert _inside(block.ink_box, _safe_box(size))
        assert block.ink_box[3] <= _above_the_band_after_zoom(size)
    assert layout.chapter.ink_box[3] < layout.headline.ink_box[1]  # chapter above, not overlapping
    # the headline shrank to fit but kept every character
    assert layout.headline.font_size < round(layout_unit(size) * HEADLINE_MAX_SHARE)
    assert not layout.headline.truncated
    assert "".join(layout.headline.lines).replace(" ", "") == VERY_LONG.replace(" ", "")
    assert " ".join(layout.chapter.lines).split() == LONG_CHAPTER.split() or layout.chapter.truncated


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_short_text_keeps_the_largest_size_and_is_centred(size: tuple[int, int], fonts: FontSet) -> None:
    layout = layout_scene_slide(SlideContent("피싱이란?", "1장"), size, fonts)
    left, _, right, _ = layout.headline.ink_box

    assert layout.headline.font_size == round(layout_unit(size) * HEADLINE_MAX_SHARE)
    assert abs((left + right) / 2 - size[0] / 2) <= 4


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_drawn_pixels_stay_inside_the_safe_area_and_out_of_the_subtitle_band(
    size: tuple[int, int], fonts: FontSet
) -> None:
    slide = render_scene_slide(SlideContent(VERY_LONG, LONG_CHAPTER), size, fonts)

    drawn = _drawn_box(slide, size)

    assert _inside(drawn, _safe_box(size))
    assert drawn[3] <= _above_the_band_after_zoom(size)


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_text_too_long_for_the_slide_ends_in_an_ellipsis_and_stays_inside(
    size: tuple[int, int], fonts: FontSet
) -> None:
    huge = VERY_LONG * 6
    layout = layout_scene_slide(SlideContent(huge, LONG_CHAPTER * 4), size, fonts)

    assert layout.headline.truncated
    assert layout.headline.lines[-1].endswith(ELLIPSIS)
    shown = " ".join(layout.headline.lines).removesuffix(ELLIPSIS).split()
    assert " ".join(shown) in " ".join(huge.split())  # leading words, in order
    assert layout.chapter is not None and len(layout.chapter.lines) <= 2
    for block in (layout.chapter, layout.headline):
        assert _inside(block.ink_box, content_area(size))


def test_shrinking_is_preferred_to_splitting_a_word(fonts: FontSet) -> None:
    layout = layout_scene_slide(SlideContent("Internationalization", ""), (1080, 1920), fonts)

    assert layout.headline.lines == ("Internationalization",)


def test_korean_headline_wraps_at_spaces_with_the_korean_font(fonts: FontSet) -> None:
    text = "의심스러운 링크는 누르지 말고 보낸 사람을 다른 경로로 확인하세요"

    layout = layout_scene_slide(SlideContent(text, "1장"), (1080, 1920), fonts)

    assert layout.headline.font_path == fonts.bold
    assert len(layout.headline.lines) > 1
    assert " ".join(layout.headline.lines).split() == text.split()


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_title_card_fits_inside_the_safe_area(size: tuple[int, int], fonts: FontSet) -> None:
    layout = layout_title_card(LONG_TITLE, LONG_CHAPTER, size, fonts)
    card = render_title_card(LONG_TITLE, LONG_CHAPTER, size, fonts)
    width, height = size
    card_safe = (math.ceil(width * SAFE_INSET), math.ceil(height * SAFE_INSET), width - math.ceil(width * SAFE_INSET))

    assert layout.subtitle is not None and layout.accent_bar is not None
    assert layout.title.ink_box[3] < layout.accent_bar[1] < layout.accent_bar[3] < layout.subtitle.ink_box[1]
    drawn = _drawn_box(card, size)
    assert (drawn[0], drawn[1]) >= card_safe[:2] and drawn[2] <= card_safe[2]
    assert drawn[3] <= height - math.ceil(height * SAFE_INSET)
    assert " ".join(layout.title.lines).split() == LONG_TITLE.split()  # shrunk, not cut


def test_title_card_with_a_short_title_uses_a_large_font(fonts: FontSet) -> None:
    short = layout_title_card("피싱 예방", "", (1280, 720), fonts)
    long = layout_title_card(LONG_TITLE, "", (1280, 720), fonts)

    assert short.subtitle is None and short.accent_bar is None
    assert short.title.font_size > long.title.font_size


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


def test_slide_is_saved_as_png(fonts: FontSet, tmp_path: Path) -> None:
    path = save_png(render_scene_slide(SlideContent("Hi", ""), (320, 180), fonts), tmp_path / "a" / "s.png")

    with Image.open(path) as reopened:
        assert (reopened.format, reopened.size) == ("PNG", (320, 180))


def _contrast(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """WCAG contrast ratio of two colours."""

    def luminance(colour: tuple[int, int, int]) -> float:
        def linear(channel: int) -> float:
            value = channel / 255
            return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

        red, green, blue = (linear(channel) for channel in colour)
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize(
    ("theme", "brand"),
    [
        ("dark", None),
        ("light", None),
        ("brand", BrandColours(background="#FFD400", accent="#D0021B")),  # a bright brand: dark text
        ("brand", BrandColours(background="#0B3D2E", accent="#F5A623")),  # a deep one: light text
        ("brand", BrandColours(background="#FFFFFF", accent="#000000", text="#0050B4")),
    ],
)
def test_every_theme_keeps_its_text_readable_on_its_background(
    theme: str, brand: BrandColours | None, fonts: FontSet, tmp_path: Path
) -> None:
    look = theme_for(theme, brand)
    for background in (look.background_top, look.background_bottom):
        assert _contrast(look.headline, background) >= 4.5, (theme, brand, look)
        assert _contrast(look.chapter, background) >= 3.0, (theme, brand, look)
    if brand is not None:
        assert look.accent == tuple(int(brand.accent[i : i + 2], 16) for i in (1, 3, 5))
    slide = render_scene_slide(
        SlideContent(headline="허리를 펴고 드세요", chapter_title="1장"), (640, 360), fonts, look
    )
    middle = slide.convert("RGB").getpixel((5, 180))
    assert isinstance(middle, tuple)
    red, green, blue = middle[:3]
    assert _contrast((red, green, blue), look.headline) >= 4.5
    slide.save(tmp_path / f"{theme}.png")


def test_a_brand_theme_without_colours_is_refused_naming_brand() -> None:
    script = VideoScript(chapters=[Chapter(chapter_id="c", title="T", scenes=[Scene(scene_id="s", narration="Hi.")])])
    with pytest.raises(ValueError, match="brand colours"):
        LessonSpec(script=script, theme="brand")
    assert LessonSpec(script=script, theme="light").theme == "light"


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_the_bullets_layout_builds_up_the_chapters_points_with_the_current_one_last(
    size: tuple[int, int], fonts: FontSet
) -> None:
    earlier = ("허리를 펴세요", "무릎을 굽히세요", "짐을 몸에 붙이세요", "Lift with your legs", "천천히 일어나세요")
    content = SlideContent("비틀지 마세요", "1장. 안전하게 드는 법", earlier_points=earlier)
    layout = layout_scene_slide(content, size, fonts)
    # The oldest point scrolls off: four earlier points and the current one, in order, top to bottom.
    assert [" ".join(block.lines) for block in layout.earlier_points] == list(earlier[1:])
    rows = [*layout.earlier_points, layout.headline]
    assert all(first.ink_box[3] <= second.ink_box[1] for first, second in itertools.pairwise(rows))
    assert layout.headline.font_size >= max(block.font_size for block in layout.earlier_points)
    area = content_area(size)
    assert all(_inside(block.ink_box, area) and not block.truncated for block in rows)
    assert layout.chapter is not None and layout.chapter.ink_box[3] < rows[0].ink_box[1]


def test_a_bullet_slide_draws_earlier_points_dimmer_than_the_current_one(fonts: FontSet, tmp_path: Path) -> None:
    content = SlideContent("Never twist your back", "Chapter 1", earlier_points=("Bend your knees", "Keep it close"))
    layout = layout_scene_slide(content, (1280, 720), fonts)
    image = render_scene_slide(content, (1280, 720), fonts).convert("L")
    image.save(tmp_path / "bullets.png")

    def brightest(box: tuple[int, int, int, int]) -> int:
        extrema = image.crop(box).getextrema()
        return int(extrema[1])  # type: ignore[arg-type]

    assert brightest(layout.headline.ink_box) > brightest(layout.earlier_points[0].ink_box) + 40
