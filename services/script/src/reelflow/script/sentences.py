"""Sentence splitting for Korean and English narration: whole sentences are the unit a scene is built from."""

import re

from reelflow.script.languages import language_family

_TERMINATORS = frozenset(".?!。？！")
_FULL_WIDTH_TERMINATORS = frozenset("。？！")
# Closing quotes and brackets that belong to the sentence they follow: `He said "stop."` ends after the quote.
_CLOSERS = frozenset("\"'”’»」』)]）】")
# A line that ends in one of these Korean final endings is a finished sentence even without a period
# (hand-wrapped text often drops it). The list is narrow on purpose: a bare "다" or "요" also ends nouns
# and particles ("바다", "보다", "중요"), so only unmistakable sentence endings count.
_KOREAN_FINAL_ENDINGS = (
    "니다", "니까", "세요", "에요", "예요", "어요", "아요", "해요", "까요", "죠",
    "했다", "었다", "았다", "였다", "이다", "한다", "는다", "있다", "없다", "같다",
)  # fmt: skip

# Abbreviations that are always followed by more of the same sentence.
_NEVER_FINAL = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "st", "mt", "sen", "rep", "gov", "gen", "col", "capt", "lt", "sgt",
        "e.g", "i.e", "cf", "vs", "viz", "approx", "u.s", "u.k", "u.n", "e.u", "u.s.a",
    }
)  # fmt: skip
# Abbreviations that may end a sentence: they end one only when a capitalised word follows.
_MAYBE_FINAL = frozenset({"etc", "inc", "ltd", "co", "corp", "jr", "sr", "a.m", "p.m", "al"})
# Abbreviations that introduce a number ("No. 5", "Fig. 2"): not a sentence end before a digit.
_BEFORE_NUMBER = frozenset({"no", "nos", "fig", "figs", "p", "pp", "vol", "ch", "sec", "art", "op"})

_DOTTED_ACRONYM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")
_NON_SPACE = re.compile(r"\S")
_LEADING_PUNCTUATION = "([{\"'“‘«「『"


def split_sentences(text: str, language: str) -> list[str]:
    """Split ``text`` into whole sentences, in order, with whitespace collapsed inside each one.

    - ``. ? !`` (and full-width ``。？！``) end a sentence when whitespace or the end of text follows;
      trailing closing quotes/brackets stay with the sentence, and runs such as ``?!`` stay together.
    - Full-width terminators end a sentence even with no space after them, and so does a period
      between two Hangul syllables (``합니다.그러나``), which Korean text often has.
    - Decimals (``3.5``), URLs and versions never split because no whitespace follows the dot.
    - English abbreviations: titles, ``e.g.``, ``i.e.``, ``U.S.`` and similar never end a sentence;
      ``etc.``, ``Inc.``, ``a.m.`` end one only before a capitalised word; ``No. 5`` does not split;
      a period followed by a lowercase word or a single capital initial (``J. Smith``) does not split.
    - An ellipsis (``...`` or ``…``) never ends a sentence: it is far more often a pause.
    - A blank line always ends a sentence. A single newline is a space, except in Korean text after
      a final ending such as ``…다`` / ``…요`` / ``…까``, where it ends an unpunctuated sentence.
    """
    korean = language_family(language) == "ko"
    sentences: list[str] = []
    for block in re.split(r"\n[ \t]*\n", text):
        for line_group in _split_korean_lines(block) if korean else [block]:
            sentences.extend(_split_block(line_group))
    return sentences


def _split_korean_lines(block: str) -> list[str]:
    groups: list[str] = []
    current: list[str] = []
    for line in block.split("\n"):
        current.append(line)
        stripped = line.rstrip()
        if stripped.endswith(_KOREAN_FINAL_ENDINGS):
            groups.append(" ".join(current))
            current = []
    if current:
        groups.append(" ".join(current))
    return groups


def _split_block(text: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char not in _TERMINATORS:
            i += 1
            continue
        end = i + 1
        while end < n and text[end] in _TERMINATORS:
            end += 1
        run = text[i:end]
        while end < n and text[end] in _CLOSERS:
            end += 1
        if _ends_sentence(text, i, run, end):
            _append(sentences, text[start:end])
            start = end
        i = end
    _append(sentences, text[start:])
    return sentences


def _ends_sentence(text: str, at: int, run: str, after: int) -> bool:
    """Whether the terminator run ``run`` starting at ``at`` (closers up to ``after``) ends a sentence."""
    if run.startswith(".."):
        return False  # an ellipsis
    if after == len(text) or text[after].isspace():
        if run == ".":
            following = _NON_SPACE.search(text, after)
            return following is None or not _period_continues(_word_before(text, at), following.group())
        return True
    if run[0] in _FULL_WIDTH_TERMINATORS:
        return True
    # "합니다.그러나": Korean without a space after the period; a closer in between ("…요."라고) is a quote.
    return after == at + len(run) and at > 0 and _is_hangul(text[at - 1]) and _is_hangul(text[after])


def _word_before(text: str, at: int) -> str:
    """The word a period at ``at`` closes, without leading brackets or quotes ("(e.g" → "e.g")."""
    start = at
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:at].lstrip(_LEADING_PUNCTUATION)


def _period_continues(word: str, first: str) -> bool:
    """Whether a period closing ``word``, before a word starting with ``first``, is not a sentence end."""
    key = word.lower()
    if first.islower():
        return True  # "e.g. the", "etc. and", "approx. ten"
    if key in _NEVER_FINAL:
        return True
    if key in _MAYBE_FINAL:
        return not first.isupper()
    if key in _BEFORE_NUMBER and first.isdigit():
        return True
    if _DOTTED_ACRONYM.match(word):
        return True  # "U.S.A. Department"
    # "J. Smith": a lone capital initial followed by a capitalised name.
    return len(word) == 1 and word.isascii() and word.isupper() and first.isupper() and first.isascii()


def _append(sentences: list[str], piece: str) -> None:
    collapsed = " ".join(piece.split())
    if collapsed:
        sentences.append(collapsed)


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


# Marks after which a too-long sentence is cut first: the end of a clause.
_CLAUSE_MARKS = frozenset(",;:，、；：—–")


def cut_to_length(text: str, max_chars: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``max_chars`` characters, as evenly as the text allows.

    A sentence longer than one narration may hold (an unpunctuated paragraph, a run-on list) is cut after a
    clause mark (``,`` ``;`` ``:`` …) near an even share, else at a space near it, and only inside a word when
    there is no space within reach. Whitespace is collapsed; text that fits is returned as it is.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    rest = " ".join(text.split())
    pieces: list[str] = []
    while len(rest) > max_chars:
        parts_left = -(-len(rest) // max_chars)
        share = -(-len(rest) // parts_left)
        cut = _cut_position(rest, share, max_chars)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _cut_position(text: str, share: int, max_chars: int) -> int:
    """Where to cut ``text`` (the head is ``text[:position]``): a clause end, else a space, nearest ``share``."""
    reach = range(max(1, share // 2), max_chars + 1)
    clause_ends = [end for end in reach if text[end - 1] in _CLAUSE_MARKS and text[end : end + 1].isspace()]
    spaces = [end for end in reach if text[end].isspace()]
    for candidates in (clause_ends, spaces):
        if candidates:
            return min(candidates, key=lambda end: (abs(end - share), -end))
    return share
