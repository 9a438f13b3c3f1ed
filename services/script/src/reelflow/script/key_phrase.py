"""Short key phrases for on-screen text and generated chapter titles: the first clause of a passage.

A key phrase is always fewer than :func:`~reelflow.script.languages.on_screen_max_chars` characters (40 for
Korean, Japanese and Chinese, 60 for other languages) and is never cut inside a word: a phrase that has to be
shortened ends at a space, followed by ``…``. Only a single word longer than the whole limit (possible in
unspaced text) is cut, again marked with ``…``.
"""

import re

from reelflow.script.languages import DENSE_SCRIPT_FAMILIES, language_family, on_screen_max_chars
from reelflow.script.sentences import split_sentences

ELLIPSIS = "…"
_CLAUSE_PUNCTUATION = re.compile(r"[,;:，、；：]")
# Connective endings that close a Korean clause ("흔하지만 막을 수 있다" → "흔하지만").
_KOREAN_CLAUSE_ENDING = re.compile(r"(?:는데|은데|인데|지만|면서|니까|으므로|므로|더라도|도록|거나)(?=[\s,])")
# In Korean a comma closes a clause only after a verbal ending ("확인하세요, 그리고" / "정리하면,"); after a
# noun it separates the items of a list ("은행, 택배 회사, …"), which is no place to cut a key phrase.
_KOREAN_VERBAL_FINALS = frozenset("요다면고만데며까록든여해")
_TRAILING = " \t\n.,;:!?。，、；：！？…·-–—"
# Words a shortened phrase should not end on ("… companies and…" reads worse than "… companies…").
_DANGLING_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "with"}
)


def key_phrase(text: str, language: str) -> str:
    """The first clause of ``text``, without trailing punctuation, never empty, under the on-screen limit.

    The clause ends at ``, ; :`` or, in Korean, a connective ending such as ``는데`` or ``지만``
    (kept in the phrase); a Korean comma counts only after a verbal ending, not between listed nouns.
    A clause too short to say anything ("However,") is skipped in favour of the next cut. A clause over
    the limit is shortened by :func:`shorten_phrase`.
    """
    sentences = split_sentences(text, language)
    sentence = sentences[0] if sentences else " ".join(text.split())
    phrase = shorten_phrase(_first_clause(sentence, language).rstrip(_TRAILING), language)
    if phrase.rstrip(ELLIPSIS):
        return phrase
    return shorten_phrase(" ".join(text.split()), language) or text.strip()[:1]


def shorten_phrase(phrase: str, language: str) -> str:
    """``phrase`` itself when it is under the on-screen limit, else cut at a space and marked with ``…``."""
    limit = on_screen_max_chars(language)
    if len(phrase) < limit:
        return phrase
    room = limit - 1 - len(ELLIPSIS)  # the longest head that still leaves the phrase under the limit
    head = phrase[: room + 1]
    if head[-1].isspace():
        cut = head.rstrip()
    else:
        space = head.rfind(" ")
        cut = head[:space].rstrip() if space > 0 else phrase[:room]
    words = cut.split(" ")
    while len(words) > 2 and words[-1].lower() in _DANGLING_WORDS:
        words.pop()
    return " ".join(words).rstrip(_TRAILING) + ELLIPSIS


def join_phrases(phrases: list[str], language: str, separator: str = " · ") -> str:
    """As many leading ``phrases`` as fit under the on-screen limit, joined; at least the first one."""
    limit = on_screen_max_chars(language)
    joined = phrases[0]
    for phrase in phrases[1:]:
        candidate = f"{joined}{separator}{phrase}"
        if len(candidate) >= limit or phrase.endswith(ELLIPSIS):
            break
        joined = candidate
    return joined


def _first_clause(sentence: str, language: str) -> str:
    family = language_family(language)
    min_chars = 6 if family in DENSE_SCRIPT_FAMILIES else 15
    cuts = [match.start() for match in _CLAUSE_PUNCTUATION.finditer(sentence)]
    if family == "ko":
        cuts = [cut for cut in cuts if sentence[cut] != "," or sentence[cut - 1 : cut] in _KOREAN_VERBAL_FINALS]
        cuts.extend(match.end() for match in _KOREAN_CLAUSE_ENDING.finditer(sentence))
    for cut in sorted(cuts):
        clause = sentence[:cut].rstrip(_TRAILING)
        if len(clause) >= min_chars:
            return clause
    return sentence
