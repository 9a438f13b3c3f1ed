"""Pillow slides: a themed still per scene and a title card for the thumbnail, text always fitted inside the frame."""

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from reelflow.compose.fonts import FontSet
from reelflow.contracts import Scene
from reelflow.runtime.failures import RenderError

Rgb = tuple[int, int, int]
Box = tuple[int, int, int, int]

# Burned subtitles sit in the bottom 22% of the frame; slide text never goes there.
SUBTITLE_ZONE = 0.22
SAFE_X = 0.08  # title-safe inset on the left and right
SAFE_TOP = 0.07
LINE_SPACING = 1.22
MIN_FONT_PX = 8
HEADLINE_FALLBACK_CHARS = 60

_CLAUSE_END = re.compile(r"(?<=[.!?。！？…,，;:])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？…])\s+")


@dataclass(frozen=True)
class SlideTheme:
    background_top: Rgb
    background_bottom: Rgb
    headline: Rgb
    chapter: Rgb
    accent: Rgb


DEFAULT_THEME = SlideTheme(
    background_top=(22, 34, 58),
    background_bottom=(10, 14, 26),
    headline=(245, 247, 250),
    chapter=(168, 186, 214),
    accent=(255, 183, 77),
)


@dataclass(frozen=True)
class SlideContent:
    """What one scene's slide shows."""

    headline: str
    chapter_title: str = ""

    @classmethod
    def for_scene(cls, chapter_title: str, scene: Scene) -> "SlideContent":
        """The scene's ``on_screen_text``, or the opening clause of its narration when it has none."""
        text = (scene.on_screen_text or "").strip() or headline_from_narration(scene.narration)
        return cls(headline=text, chapter_title=chapter_title)


@dataclass(frozen=True)
class TextBlock:
    """Lines of text fitted to a font size, with where they are drawn and the ink box they cover."""

    lines: tuple[str, ...]
    font_path: Path
    font_size: int
    origins: tuple[tuple[int, int], ...]  # top-left of each line's layout box, for ``draw.text(anchor="la")``
    ink_box: Box


@dataclass(frozen=True)
class SlideLayout:
    size: tuple[int, int]
    chapter: TextBlock | None
    accent_bar: Box | None
    headline: TextBlock


def headline_from_narration(narration: str, max_chars: int = HEADLINE_FALLBACK_CHARS) -> str:
    """The first sentence, or its first clause when the sentence is long, cut at a word under ``max_chars``."""
    text = " ".join(narration.split())
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    if len(sentence) > max_chars:
        sentence = _CLAUSE_END.split(sentence, maxsplit=1)[0]
    sentence = sentence.rstrip(" .,;:，。")
    if len(sentence) <= max_chars:
        return sentence
    cut = sentence[:max_chars].rsplit(" ", 1)[0] if " " in sentence[:max_chars] else sentence[:max_chars]
    return cut.rstrip(" ,;:，") + "…"


@lru_cache(maxsize=256)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(str(path), size)
    except OSError as exc:
        raise RenderError(f"the slide font {path} could not be loaded ({exc})") from exc


def _line_width(font: ImageFont.FreeTypeFont, line: str) -> float:
    left, _, right, _ = font.getbbox(line)
    return max(font.getlength(line), right) - min(0, left)


def wrap_to_width(
    text: str, font: ImageFont.FreeTypeFont, max_width: float, *, break_words: bool = True
) -> list[str] | None:
    """Greedy wrap at spaces (Korean and English alike); a token wider than a line is broken by character.

    Explicit line breaks in ``text`` are kept. With ``break_words=False`` an overlong token gives ``None``.
    """
    lines: list[str] = []
    for paragraph in text.splitlines() or [text]:
        current = ""
        for token in paragraph.split():
            candidate = f"{current} {token}" if current else token
            if _line_width(font, candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            if _line_width(font, token) <= max_width:
                current = token
                continue
            if not break_words:
                return None
            for char in token:
                if current and _line_width(font, current + char) > max_width:
                    lines.append(current)
                    current = ""
                current += char
        if current:
            lines.append(current)
    return lines


def _line_step(font: ImageFont.FreeTypeFont) -> int:
    ascent, descent = font.getmetrics()
    return round((ascent + descent) * LINE_SPACING)


def _block_height(font: ImageFont.FreeTypeFont, line_count: int) -> int:
    ascent, descent = font.getmetrics()
    return _line_step(font) * (line_count - 1) + ascent + descent


def _fits(
    text: str, font: ImageFont.FreeTypeFont, box_width: int, box_height: int, *, break_words: bool
) -> list[str] | None:
    lines = wrap_to_width(text, font, box_width, break_words=break_words)
    if not lines or any(_line_width(font, line) > box_width for line in lines):
        return None
    return lines if _block_height(font, len(lines)) <= box_height else None


def _largest_fitting(
    text: str,
    font_path: Path,
    area: tuple[int, int],
    sizes: tuple[int, int],
    max_lines: int | None,
    *,
    break_words: bool,
) -> tuple[int, list[str]] | None:
    """Binary search for the largest size in ``sizes`` at which ``text`` fits ``area``.

    Smaller text always wraps into fewer pixels, so "fits" is monotonic in the size.
    """
    best: tuple[int, list[str]] | None = None
    low, high = sizes
    while low <= high:
        size = (low + high) // 2
        lines = _fits(text, _font(font_path, size), area[0], area[1], break_words=break_words)
        if lines is not None and (max_lines is None or len(lines) <= max_lines):
            best = (size, lines)
            low = size + 1
        else:
            high = size - 1
    return best


def fit_text(
    text: str,
    font_path: Path,
    box: Box,
    *,
    max_size: int,
    align_middle: bool = True,
    max_lines: int | None = None,
) -> TextBlock:
    """Wrap ``text`` centred in ``box`` at the largest font size (≤ ``max_size``) at which all of it fits.

    Text is shrunk, never cut: if it cannot fit even at :data:`MIN_FONT_PX`, :class:`RenderError` says so.
    """
    left, top, right, bottom = box
    box_width, box_height = right - left, bottom - top
    top_size = max(MIN_FONT_PX, max_size)
    # Shrinking a little reads better than splitting a word, but not at any price: below half size,
    # overlong words are broken by character instead.
    best = _largest_fitting(
        text,
        font_path,
        (box_width, box_height),
        (max(MIN_FONT_PX, top_size // 2), top_size),
        max_lines,
        break_words=False,
    ) or _largest_fitting(
        text, font_path, (box_width, box_height), (MIN_FONT_PX, top_size), max_lines, break_words=True
    )
    if best is None:
        raise RenderError(
            f"slide text of {len(text)} characters does not fit a {box_width}x{box_height} px area even at "
            f"{MIN_FONT_PX} px; shorten the scene's on_screen_text"
        )
    size, lines = best
    font = _font(font_path, size)
    step = _line_step(font)
    block_top = top + (box_height - _block_height(font, len(lines))) // 2 if align_middle else top
    origins: list[tuple[int, int]] = []
    ink: list[Box] = []
    for index, line in enumerate(lines):
        y = block_top + index * step
        x = left + round((box_width - _line_width(font, line)) / 2 - min(0, font.getbbox(line)[0]))
        origins.append((x, y))
        ink_left, ink_top, ink_right, ink_bottom = font.getbbox(line)
        ink.append(
            (
                x + math.floor(ink_left),
                y + math.floor(ink_top),
                x + math.ceil(ink_right),
                y + math.ceil(ink_bottom),
            )
        )
    ink_box = (min(b[0] for b in ink), min(b[1] for b in ink), max(b[2] for b in ink), max(b[3] for b in ink))
    return TextBlock(lines=tuple(lines), font_path=font_path, font_size=size, origins=tuple(origins), ink_box=ink_box)


def content_area(size: tuple[int, int]) -> Box:
    """The title-safe area above the subtitle zone."""
    width, height = size
    return (
        round(width * SAFE_X),
        round(height * SAFE_TOP),
        width - round(width * SAFE_X),
        round(height * (1 - SUBTITLE_ZONE)) - round(height * 0.02),
    )


def layout_scene_slide(content: SlideContent, size: tuple[int, int], fonts: FontSet) -> SlideLayout:
    width, height = size
    left, top, right, bottom = content_area(size)
    unit = min(height, width * 9 / 16)  # sizes follow the frame's height, capped for tall (portrait) frames
    chapter_block: TextBlock | None = None
    accent_bar: Box | None = None
    headline_top = top
    if content.chapter_title.strip():
        chapter_box = (left, top, right, top + round(unit * 0.13))
        chapter_block = fit_text(
            content.chapter_title,
            fonts.regular,
            chapter_box,
            max_size=round(unit * 0.045),
            align_middle=False,
            max_lines=2,
        )
        bar_top = chapter_block.ink_box[3] + round(unit * 0.025)
        bar_width = round(width * 0.06)
        accent_bar = (
            width // 2 - bar_width // 2,
            bar_top,
            width // 2 + bar_width // 2,
            bar_top + max(2, round(unit * 0.006)),
        )
        headline_top = accent_bar[3] + round(unit * 0.04)
    headline = fit_text(content.headline, fonts.bold, (left, headline_top, right, bottom), max_size=round(unit * 0.11))
    return SlideLayout(size=size, chapter=chapter_block, accent_bar=accent_bar, headline=headline)


def render_background(size: tuple[int, int], theme: SlideTheme = DEFAULT_THEME) -> Image.Image:
    """A subtle vertical gradient from ``background_top`` to ``background_bottom``."""
    mask = Image.linear_gradient("L").resize(size)
    top = Image.new("RGB", size, theme.background_top)
    bottom = Image.new("RGB", size, theme.background_bottom)
    return Image.composite(bottom, top, mask)


def _draw_block(draw: ImageDraw.ImageDraw, block: TextBlock, colour: Rgb) -> None:
    font = _font(block.font_path, block.font_size)
    for line, origin in zip(block.lines, block.origins, strict=True):
        draw.text(origin, line, font=font, fill=colour, anchor="la")


def render_scene_slide(
    content: SlideContent, size: tuple[int, int], fonts: FontSet, theme: SlideTheme = DEFAULT_THEME
) -> Image.Image:
    """One scene's slide: chapter title at the top, the headline large and centred, the bottom left clear."""
    layout = layout_scene_slide(content, size, fonts)
    image = render_background(size, theme)
    draw = ImageDraw.Draw(image)
    if layout.chapter is not None:
        _draw_block(draw, layout.chapter, theme.chapter)
    if layout.accent_bar is not None:
        draw.rectangle(layout.accent_bar, fill=theme.accent)
    _draw_block(draw, layout.headline, theme.headline)
    return image


def render_title_card(
    title: str, subtitle: str, size: tuple[int, int], fonts: FontSet, theme: SlideTheme = DEFAULT_THEME
) -> Image.Image:
    """The thumbnail: the video title large in the upper part, the first chapter beneath an accent bar."""
    width, height = size
    unit = min(height, width * 9 / 16)
    left, right = round(width * SAFE_X), width - round(width * SAFE_X)
    top, bottom = round(height * SAFE_TOP), height - round(height * SAFE_TOP)
    split = top + round((bottom - top) * (0.68 if subtitle.strip() else 1.0))
    image = render_background(size, theme)
    draw = ImageDraw.Draw(image)
    title_block = fit_text(title, fonts.bold, (left, top, right, split), max_size=round(unit * 0.14))
    _draw_block(draw, title_block, theme.headline)
    if subtitle.strip():
        bar_top = split + round(unit * 0.02)
        bar_width = round(width * 0.08)
        draw.rectangle(
            (width // 2 - bar_width // 2, bar_top, width // 2 + bar_width // 2, bar_top + max(3, round(unit * 0.008))),
            fill=theme.accent,
        )
        subtitle_box = (left, bar_top + round(unit * 0.04), right, bottom)
        _draw_block(draw, fit_text(subtitle, fonts.regular, subtitle_box, max_size=round(unit * 0.06)), theme.chapter)
    return image


def save_png(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=False, compress_level=1)
    return path


def save_jpeg(image: Image.Image, path: Path, *, quality: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.convert("RGB").save(path, format="JPEG", quality=quality, optimize=True, progressive=True)
    return path
