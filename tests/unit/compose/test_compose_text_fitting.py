"""Fitting text into a box: shrink first, then break overlong tokens cleanly, finally ellipsise at a word."""

import pytest
from PIL import ImageFont

from reelflow.compose.fonts import FontSet
from reelflow.compose.text_fitting import (
    ELLIPSIS,
    fit_text,
    grapheme_clusters,
    text_width,
    wrap_to_width,
)
from reelflow.runtime.failures import RenderError

KOREAN = "의심스러운 링크는 누르지 말고 보낸 사람을 다른 경로로 확인하세요"


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def test_korean_wraps_only_between_eojeol_in_balanced_lines(fonts: FontSet) -> None:
    block = fit_text(KOREAN, fonts.bold, (0, 0, 400, 1000), max_size=60)

    assert len(block.lines) > 1
    assert " ".join(block.lines).split() == KOREAN.split()  # breaks only where spaces were
    assert _inside(block.ink_box, block.box)
    font = ImageFont.truetype(str(fonts.bold), block.font_size)
    widths = [text_width(font, line) for line in block.lines]
    assert min(widths) >= 0.5 * max(widths)  # balanced: no line left with a lone word


def test_short_text_keeps_the_largest_size_and_long_text_shrinks(fonts: FontSet) -> None:
    box = (0, 0, 600, 300)
    short = fit_text("Stop.", fonts.bold, box, max_size=80, min_size=20)
    long = fit_text(" ".join([KOREAN] * 3), fonts.bold, box, max_size=80, min_size=20)

    assert short.font_size == 80
    assert 20 <= long.font_size < 80
    assert not long.truncated
    assert " ".join(long.lines).split() == " ".join([KOREAN] * 3).split()


def test_shrinking_is_preferred_to_splitting_a_word(fonts: FontSet) -> None:
    block = fit_text("Internationalization", fonts.bold, (0, 0, 500, 300), max_size=80)

    assert block.lines == ("Internationalization",)
    assert 40 <= block.font_size < 80


def test_an_overlong_token_breaks_after_its_hyphens_before_anywhere_else(fonts: FontSet) -> None:
    font = ImageFont.truetype(str(fonts.regular), 40)
    lines = wrap_to_width("state-of-the-art-phishing-detection", font, 300)

    assert lines is not None and len(lines) > 1
    assert "".join(lines) == "state-of-the-art-phishing-detection"
    assert all(line.endswith("-") for line in lines[:-1])
    assert wrap_to_width("state-of-the-art-phishing-detection", font, 300, break_words=False) is None


def test_a_token_without_break_points_is_broken_between_characters_to_fit(fonts: FontSet) -> None:
    font = ImageFont.truetype(str(fonts.regular), 40)
    token = "가나다라마바사아자차카타파하" * 3
    lines = wrap_to_width(token, font, 300)

    assert lines is not None and len(lines) > 1
    assert "".join(lines) == token
    assert all(text_width(font, line) <= 300 for line in lines)


def test_grapheme_clusters_keep_jamo_marks_and_emoji_sequences_whole() -> None:
    decomposed_han = "\u1112\u1161\u11ab"  # 한 written as three conjoining jamo
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    thumbs = "\U0001f44d\U0001f3fd"

    assert grapheme_clusters(f"a{decomposed_han}b") == ["a", decomposed_han, "b"]
    assert grapheme_clusters("cafe\u0301!") == ["c", "a", "f", "e\u0301", "!"]
    assert grapheme_clusters(f"{family}{thumbs}x") == [family, thumbs, "x"]
    assert grapheme_clusters("피싱") == ["피", "싱"]


def test_a_broken_decomposed_hangul_word_never_splits_a_syllable(fonts: FontSet) -> None:
    syllable = "\u1112\u1161\u11ab"
    font = ImageFont.truetype(str(fonts.regular), 40)

    lines = wrap_to_width(syllable * 30, font, 200)

    assert lines is not None and len(lines) > 1
    assert all(len(line) % 3 == 0 and line.startswith("\u1112") for line in lines)


def test_text_too_long_even_at_the_minimum_size_is_ellipsised_after_a_whole_word(fonts: FontSet) -> None:
    words = [f"word{index}," for index in range(300)]
    box = (10, 20, 410, 220)

    block = fit_text(" ".join(words), fonts.regular, box, max_size=40, min_size=16)

    assert block.truncated
    assert block.font_size == 16
    assert _inside(block.ink_box, box)
    assert block.lines[-1].endswith(ELLIPSIS)
    shown = " ".join(block.lines).removesuffix(ELLIPSIS).split()
    assert 10 < len(shown) < len(words)
    assert shown[:-1] == words[: len(shown) - 1]
    assert shown[-1] == words[len(shown) - 1].rstrip(",")  # a whole word, its trailing comma dropped


def test_a_single_giant_token_is_ellipsised_between_whole_characters(fonts: FontSet) -> None:
    token = "피싱" * 400

    block = fit_text(token, fonts.regular, (0, 0, 300, 100), max_size=30, min_size=12)

    assert block.truncated
    text = "".join(block.lines)
    assert text.endswith(ELLIPSIS)
    assert token.startswith(text.removesuffix(ELLIPSIS))
    assert block.ink_box[2] <= 300 and block.ink_box[3] <= 100


def test_max_lines_is_respected_when_ellipsising(fonts: FontSet) -> None:
    block = fit_text(" ".join(["chapter"] * 50), fonts.regular, (0, 0, 500, 400), max_size=30, min_size=20, max_lines=2)

    assert len(block.lines) == 2
    assert block.truncated and block.lines[-1].endswith(ELLIPSIS)


def test_blank_text_gives_an_empty_block(fonts: FontSet) -> None:
    block = fit_text("  ", fonts.regular, (5, 5, 100, 100), max_size=30)

    assert block.lines == ()
    assert not block.truncated


def test_a_box_smaller_than_one_glyph_raises_a_clear_error(fonts: FontSet) -> None:
    with pytest.raises(RenderError, match="does not fit"):
        fit_text("x" * 400, fonts.regular, (0, 0, 4, 4), max_size=40)
