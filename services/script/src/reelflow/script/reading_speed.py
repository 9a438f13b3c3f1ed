"""Narration length estimates from per-language reading speeds, so scenes get a duration before any audio exists."""

import math
import re

from reelflow.script.languages import language_family

KOREAN_SYLLABLES_PER_SEC = 7.0
ENGLISH_WORDS_PER_SEC = 2.6  # ≈ 155 words per minute
CJK_CHARS_PER_SEC = 7.0
OTHER_CHARS_PER_SEC = 14.0  # letters and digits: about 2.6 words a second of 5–6 characters
MIN_SCENE_SEC = 1.0

_HANGUL_SYLLABLE = re.compile(r"[\uac00-\ud7a3]")
_WORD = re.compile(r"[^\W_]+(?:['’.\-][^\W_]+)*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def estimate_speech_sec(text: str, language: str) -> float:
    """Seconds a narrator needs for ``text``, unrounded.

    Korean counts Hangul syllables at 7 a second, plus any non-Hangul words (English terms,
    numbers) at the English rate. English counts words at 2.6 a second. Other languages
    count characters: CJK ideographs and kana at 7 a second, other letters and digits at 14.
    """
    family = language_family(language)
    if family == "ko":
        syllables = len(_HANGUL_SYLLABLE.findall(text))
        other_words = sum(1 for word in _WORD.findall(text) if not _HANGUL_SYLLABLE.search(word))
        return syllables / KOREAN_SYLLABLES_PER_SEC + other_words / ENGLISH_WORDS_PER_SEC
    if family == "en":
        return len(_WORD.findall(text)) / ENGLISH_WORDS_PER_SEC
    cjk = len(_CJK.findall(text))
    others = len(_LETTER_OR_DIGIT.findall(text)) - cjk
    return cjk / CJK_CHARS_PER_SEC + others / OTHER_CHARS_PER_SEC


def scene_duration_sec(narration: str, language: str) -> float:
    """The scene duration written into the script: the speech estimate rounded to 0.1 s, at least 1 s."""
    tenths = math.floor(estimate_speech_sec(narration, language) * 10 + 0.5)
    return max(MIN_SCENE_SEC, tenths / 10)
