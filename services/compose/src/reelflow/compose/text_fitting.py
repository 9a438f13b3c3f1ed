"""Fitting text into a box with Pillow: the largest font size at which the wrapped text fits, never overflowing.

Text is wrapped at spaces, between eojeol in Korean and between words in English. A token wider than
the box breaks after its inner punctuation, then between grapheme clusters, never inside a glyph.
"""

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from reelflow.compose.line_breaking import split_within_word
from reelflow.runtime.failures import RenderError

Box = tuple[int, int, int, int]

MIN_FONT_PX = 8
LINE_SPACING = 1.22
ELLIPSIS = "…"
_DANGLING_BEFORE_ELLIPSIS = " ,.;:，。、；："


@dataclass(frozen=True)
class TextBlock:
    """Lines of text fitted to a font size, with where they are drawn and the ink box they cover.

    ``box`` is the area the text was fitted into; ``ink_box`` always lies inside it. ``truncated``
    says the text did not fit even at the smallest size allowed and ends in an ellipsis.
    """

    lines: tuple[str, ...]
    font_path: Path
    font_size: int
    origins: tuple[tuple[int, int], ...]  # top-left of each line's layout box, for ``draw.text(anchor="la")``
    ink_box: Box
    box: Box
    truncated: bool = False


@lru_cache(maxsize=256)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(str(path), size)
    except OSError as exc:
        raise RenderError(f"the slide font {path} could not be loaded ({exc})") from exc


def text_width(font: ImageFont.FreeTypeFont, line: str) -> float:
    """The wider of the advance and the ink: italics and overhanging glyphs can reach past the advance."""
    left, _, right, _ = font.getbbox(line)
    return max(font.getlength(line), right) - min(0, left)


def _joins_previous(char: str) -> bool:
    """Whether ``char`` belongs to the grapheme cluster before it (combining marks, Hangul jamo, emoji joins)."""
    code = ord(char)
    return (
        unicodedata.combining(char) != 0
        or unicodedata.category(char) in ("Mn", "Me", "Mc")
        or 0x1160 <= code <= 0x11FF  # Hangul medial vowels and final consonants after a leading consonant
        or 0xD7B0 <= code <= 0xD7FF
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin-tone modifiers
        or code == 0x200D  # zero-width joiner
    )


def grapheme_clusters(text: str) -> list[str]:
    """``text`` cut into user-perceived characters, close enough to Unicode UAX #29 for slide text.

    A cluster holds a base character with its combining marks, a decomposed Hangul syllable (jamo), or
    an emoji joined with zero-width joiners, so that breaking between clusters never splits a glyph.
    """
    clusters: list[str] = []
    for char in text:
        if clusters and (_joins_previous(char) or clusters[-1].endswith("\u200d")):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


@lru_cache(maxsize=32_768)
def _piece_width(font: ImageFont.FreeTypeFont, piece: str) -> float:
    return text_width(font, piece)


def wrap_to_width(
    text: str, font: ImageFont.FreeTypeFont, max_width: float, *, break_words: bool = True
) -> list[str] | None:
    """Greedy wrap at spaces, keeping explicit line breaks.

    A token wider than a line is broken after its inner punctuation first (``state-`` ``of-the-art``),
    then between grapheme clusters. With ``break_words=False``, an overlong token gives ``None``.

    A line's width is summed from its words and spaces, each measured once per font. Laying out the
    whole line again for every word made fitting a long text quadratic. The sum equals the shaped
    line's advance for Hangul and Latin, and :func:`fit_text` still measures every finished line in full.
    """
    space = font.getlength(" ")
    lines: list[str] = []
    for paragraph in text.splitlines() or [text]:
        current, current_width = "", 0.0
        for token in paragraph.split():
            if _piece_width(font, token) <= max_width:
                parts = [token]
            elif break_words:
                parts = split_within_word(token)
            else:
                return None
            for index, part in enumerate(parts):
                part_width = _piece_width(font, part)
                gap = space if index == 0 and current else 0.0
                if current_width + gap + part_width <= max_width:
                    current += (" " if gap else "") + part
                    current_width += gap + part_width
                    continue
                if current:
                    lines.append(current)
                    current, current_width = "", 0.0
                if part_width <= max_width:
                    current, current_width = part, part_width
                    continue
                for cluster in grapheme_clusters(part):  # only a run with no break point left
                    cluster_width = _piece_width(font, cluster)
                    if current and current_width + cluster_width > max_width:
                        lines.append(current)
                        current, current_width = "", 0.0
                    current += cluster
                    current_width += cluster_width
        if current:
            lines.append(current)
    return lines


def _line_step(font: ImageFont.FreeTypeFont) -> int:
    ascent, descent = font.getmetrics()
    return round((ascent + descent) * LINE_SPACING)


def _block_height(font: ImageFont.FreeTypeFont, line_count: int) -> int:
    ascent, descent = font.getmetrics()
    return _line_step(font) * (line_count - 1) + ascent + descent


def _fitting_lines(
    text: str,
    font: ImageFont.FreeTypeFont,
    area: tuple[int, int],
    max_lines: int | None,
    *,
    break_words: bool,
) -> list[str] | None:
    """The wrapped lines when they fit ``area`` (and ``max_lines``), else ``None``."""
    width, height = area
    lines = wrap_to_width(text, font, width, break_words=break_words)
    if not lines or any(text_width(font, line) > width for line in lines):
        return None
    if max_lines is not None and len(lines) > max_lines:
        return None
    return lines if _block_height(font, len(lines)) <= height else None


def _largest_fitting(
    fits_at: Callable[[int], list[str] | None], sizes: tuple[int, int]
) -> tuple[int, list[str]] | None:
    """The largest size in ``sizes`` at which ``fits_at`` gives lines.

    This is the same as shrinking one pixel at a time from the top until the text fits, but takes
    about eight tries instead of up to a hundred. That works because a smaller font wraps the same
    text into fewer pixels, so "fits" only changes once over the range.
    """
    best: tuple[int, list[str]] | None = None
    low, high = sizes
    while low <= high:
        size = (low + high) // 2
        lines = fits_at(size)
        if lines is not None:
            best = (size, lines)
            low = size + 1
        else:
            high = size - 1
    return best


def _balanced(
    text: str, font: ImageFont.FreeTypeFont, lines: list[str], *, break_words: bool, max_width: int
) -> list[str]:
    """The same number of lines at the narrowest width that still holds them, so no word is left alone."""
    if len(lines) < 2:
        return lines
    best = lines
    low, high = 1, math.ceil(max(text_width(font, line) for line in lines))
    while low <= high:
        width = (low + high) // 2
        attempt = wrap_to_width(text, font, width, break_words=break_words)
        if attempt is not None and len(attempt) <= len(lines):
            best, high = attempt, width - 1
        else:
            low = width + 1
    return best if all(text_width(font, line) <= max_width for line in best) else lines


def _ellipsised(
    text: str, font: ImageFont.FreeTypeFont, area: tuple[int, int], max_lines: int | None
) -> list[str] | None:
    """As many leading words as fit with ``…`` after the last one; ``None`` when not even ``…`` fits.

    When even the first word and the ellipsis cannot fit, the first word is cut between grapheme
    clusters instead.
    """

    def fits(shown: str) -> list[str] | None:
        return _fitting_lines(shown + ELLIPSIS, font, area, max_lines, break_words=True)

    words = text.split()
    count = _largest_fitting(
        lambda kept: fits(" ".join(words[:kept]).rstrip(_DANGLING_BEFORE_ELLIPSIS)), (1, len(words))
    )
    if count is not None:
        return count[1]
    clusters = grapheme_clusters(words[0]) if words else []
    kept = _largest_fitting(lambda kept: fits("".join(clusters[:kept])), (0, len(clusters)))
    return kept[1] if kept is not None else None


def fit_text(
    text: str,
    font_path: Path,
    box: Box,
    *,
    max_size: int,
    min_size: int = MIN_FONT_PX,
    align_middle: bool = True,
    max_lines: int | None = None,
) -> TextBlock:
    """Wrap ``text`` centred in ``box`` at the largest font size between ``min_size`` and ``max_size`` that fits.

    The steps, in order:

    1. Shrink, wrapping only at spaces, down to half of ``max_size``.
    2. Also break tokens wider than the box (after inner punctuation, then between grapheme
       clusters), from ``max_size`` down to ``min_size``. Shrinking a little reads better than a
       split word, but not at any price.
    3. At ``min_size``, keep the leading words that fit and end with ``…`` after a whole word. The
       block is then marked ``truncated``, so nothing ever overflows the box or is clipped by it.

    After step 1 or 2 the lines are balanced: the same number of lines at the narrowest width that
    holds them, so a last line is not left with a lone word.

    Blank text gives a block with no lines. :class:`RenderError` is raised only when not even ``…``
    fits the box at ``min_size``.
    """
    left, top, right, bottom = box
    area = (right - left, bottom - top)
    top_size = max(MIN_FONT_PX, max_size)
    if not text.strip():
        return TextBlock(
            lines=(), font_path=font_path, font_size=top_size, origins=(), ink_box=(left, top, left, top), box=box
        )
    low_size = max(MIN_FONT_PX, min(min_size, top_size))
    truncated = False
    whole = _largest_fitting(
        lambda size: _fitting_lines(text, load_font(font_path, size), area, max_lines, break_words=False),
        (max(low_size, top_size // 2), top_size),
    )
    if whole is not None:
        size, lines = whole
        lines = _balanced(text, load_font(font_path, size), lines, break_words=False, max_width=area[0])
    else:
        broken = _largest_fitting(
            lambda size: _fitting_lines(text, load_font(font_path, size), area, max_lines, break_words=True),
            (low_size, top_size),
        )
        if broken is not None:
            size, lines = broken
            lines = _balanced(text, load_font(font_path, size), lines, break_words=True, max_width=area[0])
        else:
            size, truncated = low_size, True
            shortened = _ellipsised(text, load_font(font_path, size), area, max_lines)
            if shortened is None:
                raise RenderError(
                    f"slide text does not fit a {area[0]}x{area[1]} px area even as '{ELLIPSIS}' at {size} px"
                )
            lines = shortened
    return _placed(lines, font_path, size, box, align_middle=align_middle, truncated=truncated)


def _placed(
    lines: list[str], font_path: Path, size: int, box: Box, *, align_middle: bool, truncated: bool
) -> TextBlock:
    """Each line centred horizontally in ``box``; the block centred vertically or set at the top."""
    left, top, right, bottom = box
    font = load_font(font_path, size)
    step = _line_step(font)
    block_top = top + (bottom - top - _block_height(font, len(lines))) // 2 if align_middle else top
    origins: list[tuple[int, int]] = []
    ink: list[Box] = []
    for index, line in enumerate(lines):
        ink_left, ink_top, ink_right, ink_bottom = font.getbbox(line)
        y = block_top + index * step
        x = left + round((right - left - text_width(font, line)) / 2 - min(0, ink_left))
        origins.append((x, y))
        ink.append(
            (x + math.floor(ink_left), y + math.floor(ink_top), x + math.ceil(ink_right), y + math.ceil(ink_bottom))
        )
    ink_box = (min(b[0] for b in ink), min(b[1] for b in ink), max(b[2] for b in ink), max(b[3] for b in ink))
    return TextBlock(
        lines=tuple(lines),
        font_path=font_path,
        font_size=size,
        origins=tuple(origins),
        ink_box=ink_box,
        box=box,
        truncated=truncated,
    )
