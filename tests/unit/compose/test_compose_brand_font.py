"""A brand font is checked against the text the slides and cards show before any slide is drawn."""

from pathlib import Path

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

from reelflow.compose.brand_font import font_characters, missing_characters, require_brand_font_covers, shown_texts
from reelflow.compose.fonts import FontSet
from reelflow.contracts import Chapter, LessonSpec, PublishTarget, Scene, VideoScript
from reelflow.runtime.failures import MediaInvalidError

KEY = "uploads/" + "a" * 64 + ".ttf"


def latin_font(path: Path) -> Path:
    """A real TrueType font whose character map has only printable ASCII (every glyph a small square)."""
    characters = [chr(code) for code in range(0x20, 0x7F)]
    names = [".notdef", *(f"uni{ord(char):04X}" for char in characters)]
    pen = TTGlyphPen(None)
    pen.moveTo((100, 0))
    pen.lineTo((100, 500))
    pen.lineTo((400, 500))
    pen.lineTo((400, 0))
    pen.closePath()
    square = pen.glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(char): f"uni{ord(char):04X}" for char in characters})
    builder.setupGlyf(dict.fromkeys(names, square))
    builder.setupHorizontalMetrics(dict.fromkeys(names, (500, 100)))
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Latin Only", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(str(path))
    return path


def korean_spec(**changes: object) -> LessonSpec:
    scenes = [
        Scene(scene_id="s1", narration="Lift with your legs.", on_screen_text="Lift with your legs"),
        Scene(scene_id="s2", narration="허리를 곧게 펴세요. 무리하지 마세요."),
    ]
    spec = LessonSpec(
        script=VideoScript(chapters=[Chapter(chapter_id="c1", title="Safe lifting", scenes=scenes)]),
        title="Safe lifting",
    )
    return spec.model_copy(update=changes)


def test_the_shown_texts_are_the_cards_chapter_titles_and_each_slides_key_phrase() -> None:
    spec = korean_spec(outro_text="Thanks")

    shown = {item.where: item.text for item in shown_texts(spec)}

    assert shown["title"] == "Safe lifting"
    assert shown["outro_text"] == "Thanks"
    assert shown["script.chapters.0.title"] == "Safe lifting"
    assert shown["script.chapters.0.scenes.0 (its slide text)"] == "Lift with your legs"
    # A scene without on-screen text shows the key phrase taken from its narration, not the whole narration.
    assert shown["script.chapters.0.scenes.1 (its slide text)"].startswith("허리를")
    assert "publish.title" not in shown  # blank texts need no glyphs


def test_the_publish_title_is_checked_only_when_the_cards_show_it() -> None:
    publish = PublishTarget(title="안전한 들기")

    titled = {item.where for item in shown_texts(korean_spec(publish=publish))}
    untitled = {item.where: item.text for item in shown_texts(korean_spec(title="", publish=publish))}

    # With a title the cards show it, not the publish title, so a font without Hangul may still draw them.
    assert "publish.title" not in titled
    assert untitled["publish.title"] == "안전한 들기"


def test_missing_characters_are_listed_once_in_order_and_spaces_need_no_glyph() -> None:
    drawn = frozenset(ord(char) for char in "abc")

    assert missing_characters(drawn, "a 가b 나가\t") == ["가", "나"]
    assert missing_characters(drawn, "ab c") == []


def test_a_latin_only_brand_font_refuses_a_korean_slide_naming_the_characters_and_the_scene(tmp_path: Path) -> None:
    font = latin_font(tmp_path / "latin.ttf")

    with pytest.raises(MediaInvalidError) as refused:
        require_brand_font_covers(font, korean_spec(), media_key=KEY)

    message = refused.value.message
    assert KEY in message
    assert "'허'" in message and "'리'" in message
    assert "script.chapters.0.scenes.1" in message
    assert "scenes.0" not in message  # the English scene is drawable
    assert "Hangul" in message and "leave brand.font out" in message
    assert refused.value.retryable is False


def test_a_latin_only_font_draws_an_english_lesson(tmp_path: Path) -> None:
    font = latin_font(tmp_path / "latin.ttf")
    english = korean_spec().script.chapters[0].scenes[0]
    spec = korean_spec(script=VideoScript(chapters=[Chapter(chapter_id="c1", title="Lifting", scenes=[english])]))

    require_brand_font_covers(font, spec, media_key=KEY)


def test_the_bundled_korean_face_covers_the_korean_lesson(fonts: FontSet) -> None:
    require_brand_font_covers(fonts.regular, korean_spec(), media_key=KEY)

    assert ord("허") in font_characters(fonts.regular)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not a font at all", "no readable character map"),
        (b"\x00\x01\x00\x00" + b"\x00" * 60, "no Unicode character map"),  # a TrueType header and no tables
    ],
)
def test_a_file_that_cannot_draw_text_is_refused_without_a_traceback(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(content)

    with pytest.raises(MediaInvalidError, match=f"brand.font has {problem}"):
        font_characters(broken)
