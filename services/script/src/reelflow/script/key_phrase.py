"""Short key phrases for on-screen text and generated chapter titles: the first clause of a passage."""

import re

from reelflow.script.languages import DENSE_SCRIPT_FAMILIES, language_family, on_screen_max_chars
from reelflow.script.sentences import split_sentences

_CLAUSE_PUNCTUATION = re.compile(r"[,;:，、；：]")
# Connective endings that close a Korean clause ("흔하지만 막을 수 있다" → "흔하지만").
_KOREAN_CLAUSE_ENDING = re.compile(r"(?:는데|은데|인데|지만|면서|니까|으므로|므로)(?=[\s,])")
_TRAILING = " \t\n.,;:!?。，、；：！？…·-–—"


def key_phrase(text: str, language: str) -> str:
    """The first clause of ``text``, without trailing punctuation, never empty.

    The clause ends at ``, ; :`` or, in Korean, a connective ending such as ``는데`` or ``지만``
    (kept in the phrase). A clause too short to say anything ("However,") is skipped in favour of
    the next cut. The result is at most 40 characters for Korean, Japanese and Chinese and 60 for
    other languages, shortened at a word boundary where one is near the limit.
    """
    limit = on_screen_max_chars(language)
    sentences = split_sentences(text, language)
    sentence = sentences[0] if sentences else " ".join(text.split())
    phrase = _shorten(_first_clause(sentence, language).rstrip(_TRAILING), limit).rstrip(_TRAILING)
    if phrase:
        return phrase
    return " ".join(text.split())[:limit].strip() or text.strip()[:limit]


def _first_clause(sentence: str, language: str) -> str:
    family = language_family(language)
    min_chars = 6 if family in DENSE_SCRIPT_FAMILIES else 15
    cuts = [match.start() for match in _CLAUSE_PUNCTUATION.finditer(sentence)]
    if family == "ko":
        cuts.extend(match.end() for match in _KOREAN_CLAUSE_ENDING.finditer(sentence))
    for cut in sorted(cuts):
        clause = sentence[:cut].rstrip(_TRAILING)
        if len(clause) >= min_chars:
            return clause
    return sentence


def _shorten(phrase: str, limit: int) -> str:
    if len(phrase) <= limit:
        return phrase
    head = phrase[:limit]
    if phrase[limit].isspace():
        return head
    space = head.rfind(" ")
    return head[:space] if space >= limit // 2 else head
