"""Whether a brand's uploaded font can draw every character a lesson's slides and cards show.

A brand font chosen for its Latin letters often has no Hangul: FreeType would draw each missing character as
an empty box (tofu) on every slide, and nothing would say why. The font's own character map is read before
any slide is drawn, and a lesson it cannot write fails at once with the characters it lacks and where they are.
The gateway cannot check this at submit for every job: a lesson written from text gets its script (and so its
slide text) only from the script step.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError

from reelflow.compose.slides import SlideContent, video_title
from reelflow.contracts import LessonSpec
from reelflow.runtime.failures import MediaInvalidError

# How many missing characters (and which places) an error lists; the rest are counted.
LISTED_CHARACTERS = 12
LISTED_PLACES = 3


@dataclass(frozen=True)
class ShownText:
    """Text a slide or card draws with the slide font, and where it comes from (how errors name it)."""

    where: str
    text: str


def shown_texts(spec: LessonSpec) -> list[ShownText]:
    """Everything drawn with the slide font: the title and outro cards (and thumbnail), each chapter title
    and each scene's key phrase. Subtitles are not: they keep their own face. The cards show ``publish.title``
    only when ``title`` is blank (:func:`video_title`), so only then is it drawn."""
    texts = [
        ShownText("title" if spec.title.strip() else "publish.title", video_title(spec)),
        ShownText("outro_text", spec.outro_text),
    ]
    for c, chapter in enumerate(spec.script.chapters):
        texts.append(ShownText(f"script.chapters.{c}.title", chapter.title))
        for s, scene in enumerate(chapter.scenes):
            slide = SlideContent.for_scene(chapter.title, scene)
            texts.append(ShownText(f"script.chapters.{c}.scenes.{s} (its slide text)", slide.headline))
    return [shown for shown in texts if shown.text.strip()]


def font_characters(font: Path) -> frozenset[int]:
    """The code points ``font``'s character map draws (its first face, for a collection).

    Raises :class:`MediaInvalidError` (non-retryable) when the file has no readable character map.
    """
    try:
        with TTFont(str(font), lazy=True, fontNumber=0) as opened:
            cmap = opened.getBestCmap()
    except (TTLibError, OSError, KeyError, AssertionError) as exc:
        raise MediaInvalidError(
            f"brand.font has no readable character map ({exc}); upload a TrueType or OpenType font", retryable=False
        ) from exc
    if not cmap:
        raise MediaInvalidError(
            "brand.font has no Unicode character map, so it cannot draw text; upload a TrueType or OpenType font",
            retryable=False,
        )
    return frozenset(cmap)


def missing_characters(drawn: frozenset[int], text: str) -> list[str]:
    """The characters of ``text`` that the font cannot draw, in order of first appearance. Spaces and other
    invisible characters need no glyph: the layout only measures them."""
    missing = (char for char in text if not char.isspace() and char.isprintable() and ord(char) not in drawn)
    return list(dict.fromkeys(missing))


def require_brand_font_covers(font: Path, spec: LessonSpec, *, media_key: str) -> None:
    """Raise :class:`MediaInvalidError` (non-retryable) naming the characters the brand font lacks, when the
    slides or cards would show any."""
    drawn = font_characters(font)
    places = [
        (shown.where, missing) for shown in shown_texts(spec) if (missing := missing_characters(drawn, shown.text))
    ]
    if places:
        raise MediaInvalidError(_coverage_message(media_key, places), retryable=False)


def _coverage_message(media_key: str, places: Sequence[tuple[str, list[str]]]) -> str:
    characters = list(dict.fromkeys(char for _, missing in places for char in missing))
    listed = _listed(characters, LISTED_CHARACTERS, noun="more")
    where = _listed([where for where, _ in places], LISTED_PLACES, noun="more places")
    return (
        f"brand.font ({media_key}) has no glyphs for {len(characters)} character(s) the slides show: {listed} "
        f"(in {where}); upload a font that covers them (for Korean text, one with Hangul such as Nanum Gothic or "
        "Noto Sans KR), or leave brand.font out to draw the slides with the default face"
    )


def _listed(items: Iterable[str], shown: int, *, noun: str) -> str:
    items = list(items)
    text = ", ".join(repr(item) if len(item) == 1 else item for item in items[:shown])
    return text + (f" and {len(items) - shown} {noun}" if len(items) > shown else "")
