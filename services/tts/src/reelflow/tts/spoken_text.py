"""What espeak-ng is given to say for a scene: its narration with a workspace's lexicon applied, then numbers,
dates, times, units, money, percentages, abbreviations and web addresses written out as words.

The subtitles keep the narration as written; only the voice hears the spoken form. Korean (``ko``) and English
(``en``) have reading rules; other languages get the lexicon alone. Nothing here raises on odd input: what no
rule can read is spoken as written.
"""

import re
from collections.abc import Mapping
from functools import lru_cache

from reelflow.tts.english_reading import read_english
from reelflow.tts.korean_reading import read_korean


def spoken_form(text: str, language: str, lexicon: Mapping[str, str] | None = None) -> str:
    """``text`` as it should be said in ``language`` (a tag such as ``ko``, ``en-GB``).

    The lexicon (written word → spoken form) goes first and wins: its words match whole, case-insensitively, and
    may be followed by a Korean particle ("SQL은"); what it puts in is never read again by the rules.
    """
    primary, _, region = language.replace("_", "-").partition("-")
    pieces = _lexicon_pieces(text, lexicon or {})
    return "".join(
        spoken if from_lexicon else _read(spoken, primary.lower(), region or None) for spoken, from_lexicon in pieces
    )


def _read(text: str, language: str, region: str | None) -> str:
    if language == "ko":
        return read_korean(text)
    if language == "en":
        return read_english(text, region)
    return text


def _lexicon_pieces(text: str, lexicon: Mapping[str, str]) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, whether the lexicon said it): lexicon words become their spoken forms."""
    entries = tuple(sorted((word.strip(), spoken) for word, spoken in lexicon.items() if word.strip()))
    if not entries:
        return [(text, False)]
    pattern, spoken_by_word = _lexicon_pattern(entries)
    pieces: list[tuple[str, bool]] = []
    last = 0
    for match in pattern.finditer(text):
        spoken = spoken_by_word.get(match.group(0).casefold())
        if spoken is None:
            continue
        pieces.append((text[last : match.start()], False))
        pieces.append((spoken, True))
        last = match.end()
    pieces.append((text[last:], False))
    return pieces


@lru_cache(maxsize=32)
def _lexicon_pattern(entries: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern for a whole lexicon, longest words first; compiled once per lexicon, as a job reuses its own."""
    words = sorted({word for word, _ in entries}, key=len, reverse=True)
    # Whole words: nothing word-like before; after, no Latin letter or digit, but Korean particles may follow.
    alternatives = "|".join(re.escape(word) for word in words)
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?![A-Za-z0-9_])", re.IGNORECASE)
    return pattern, {word.casefold(): spoken for word, spoken in entries}
