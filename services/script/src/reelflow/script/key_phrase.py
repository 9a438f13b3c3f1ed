"""Short key phrases for on-screen text and generated chapter titles: the main point of a passage.

A key phrase is the **main clause** of the passage's first sentence, not the clause that happens to come first:

- English: a clause opened by a subordinator ("When you set the load down, …", "If anything hurts, …") or a
  short lead-in ("However, …") gives way to the clause it leads to ("bend your knees").
- Korean is head-final: a clause closed by a connective ending (``지만``, ``는데``, ``면``, ``더라도`` …) leads
  to the main clause after it ("…시도할 수 있지만 무리하지 마세요" → "무리하지 마세요"). The sentence's topic
  ("피싱은") is carried over when the main clause has none of its own.
- A warning ("never …", "don't …", "…하지 마세요", "주의") is never dropped for another clause of its sentence.

It is always shorter than :func:`~reelflow.script.languages.on_screen_max_chars` characters (40 for Korean,
Japanese and Chinese, 60 for other languages) **without an ellipsis**: a main clause too long for the slide loses
whole trailing phrases in English ("… before you lift anything heavy") and leading words in Korean, whose
predicate comes last. Only a single word longer than the whole limit (possible in unspaced text) is cut, marked
with ``…``. Everything here is deterministic.
"""

import re
from dataclasses import dataclass

from reelflow.script.languages import DENSE_SCRIPT_FAMILIES, language_family, on_screen_max_chars
from reelflow.script.sentences import split_sentences

ELLIPSIS = "…"
_CLAUSE_PUNCTUATION = re.compile(r"[,;:，、；：]")
# Connective endings that close a Korean clause ("흔하지만 막을 수 있다" → "흔하지만").
_KOREAN_CLAUSE_ENDING = re.compile(
    r"(?:는데|은데|인데|지만|면서|니까|으므로|므로|더라도|도록|거나|으면|하면|되면|있으면|없으면|이면|려면|다면)(?=[\s,])"
)
# In Korean a comma closes a clause only after a verbal ending ("확인하세요, 그리고" / "정리하면,"); after a
# noun it separates the items of a list ("은행, 택배 회사, …"), which is no place to cut a key phrase.
_KOREAN_VERBAL_FINALS = frozenset("요다면고만데며까록든여해")
_KOREAN_TOPIC = re.compile(r"^\S+[은는]$")
_KOREAN_LEADING_CONJUNCTIONS = ("그리고 ", "그러나 ", "하지만 ", "그래서 ", "또한 ", "또 ", "그러면 ", "그런데 ")
_KOREAN_WARNING = re.compile(r"마세요|말아야|말고|안 됩니다|안 돼요|안 돼|금지|주의|위험|조심|절대")
_ENGLISH_SUBORDINATORS = (
    "after", "although", "as long as", "as soon as", "because", "before", "even if", "even though", "if",
    "in case", "once", "since", "so that", "though", "unless", "until", "when", "whenever", "where",
    "wherever", "whether", "while",
)  # fmt: skip
_ENGLISH_LEADING_CONJUNCTIONS = ("and ", "but ", "so ", "or ", "then ", "yet ")
_ENGLISH_WARNING = re.compile(
    r"\b(?:never|don't|do not|must not|mustn't|should not|shouldn't|avoid|warning|caution|danger|careful)\b",
    re.IGNORECASE,
)
# Where an English clause can lose its tail and still read whole: before these words.
_ENGLISH_TAIL_STARTS = frozenset(
    {
        "after", "and", "as", "at", "because", "before", "but", "by", "during", "for", "from", "if", "in", "into",
        "like", "on", "once", "or", "since", "so", "that", "to", "under", "unless", "until", "when",
        "where", "which", "while", "who", "with", "within", "without",
    }
)  # fmt: skip
_TRAILING = " \t\n.,;:!?。，、；：！？…·-–—"
# Words a shortened phrase should not end on ("… companies and…" reads worse than "… companies…").
_DANGLING_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "with"}
)


@dataclass(frozen=True)
class _Clause:
    text: str
    subordinate: bool  # leads to another clause: it is not where the sentence's point is

    @property
    def warns(self) -> bool:
        return bool(_ENGLISH_WARNING.search(self.text) or _KOREAN_WARNING.search(self.text))


def key_phrase(text: str, language: str) -> str:
    """The main clause of ``text``'s first sentence, without trailing punctuation, never empty, fitting the slide.

    See the module docstring for which clause that is and how a long one is made to fit without an ellipsis.
    """
    sentences = split_sentences(text, language)
    sentence = (sentences[0] if sentences else " ".join(text.split())).rstrip(_TRAILING)
    main, topic = _main_clause(sentence, language)
    phrase = _fit(main, language)
    for carried in _topic_choices(topic):
        with_topic = f"{carried} {phrase}"
        if len(with_topic) < on_screen_max_chars(language) and not phrase.endswith(ELLIPSIS):
            phrase = with_topic
            break
    if phrase.rstrip(ELLIPSIS):
        return phrase
    return shorten_phrase(" ".join(text.split()), language) or text.strip()[:1]


def shorten_phrase(phrase: str, language: str) -> str:
    """``phrase`` itself when it is under the on-screen limit, else cut at a space and marked with ``…``.

    For text that must be shown as written (a heading, an LLM's own on-screen text), where dropping words from
    the middle would change what the author wrote.
    """
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
    return _without_dangling_words(cut) + ELLIPSIS


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


# ---- which clause ----------------------------------------------------------------------------------------


def _main_clause(sentence: str, language: str) -> tuple[str, str]:
    """The clause that holds the sentence's point, and (Korean) the topic it lost: see the module docstring."""
    family = language_family(language)
    clauses = _korean_clauses(sentence) if family == "ko" else _clauses(sentence, family)
    min_chars = 6 if family in DENSE_SCRIPT_FAMILIES else 15
    # A main clause too short to say anything ("안전합니다", "stay") takes the clause before it along.
    merged: list[_Clause] = []
    for clause in clauses:
        if merged and not clause.subordinate and len(clause.text) < min_chars:
            previous = merged.pop()
            clause = _Clause(_joined(previous.text, clause.text, sentence), subordinate=False)
        merged.append(clause)
    main = [clause for clause in merged if not clause.subordinate] or merged
    chosen = next((clause for clause in main if clause.warns), None)
    if chosen is None:
        warning = next((clause for clause in merged if clause.warns), None)
        chosen = warning if warning is not None else main[0]
    text = _without_leading_conjunction(chosen.text, family)
    index = merged.index(chosen)
    topic = _korean_topic(merged[index - 1].text, text) if family == "ko" and index > 0 else ""
    first_word = text.split(" ", 1)[0]
    if first_word.isalpha() and first_word.islower() and family not in DENSE_SCRIPT_FAMILIES:
        text = text[:1].upper() + text[1:]  # "bend your knees" opens the slide as "Bend your knees"
    return text, topic


def _clauses(sentence: str, family: str) -> list[_Clause]:
    """Clauses at ``, ; :``; in English those opened by a subordinator, and short lead-ins, are subordinate."""
    min_chars = 6 if family in DENSE_SCRIPT_FAMILIES else 15
    pieces = [piece.strip() for piece in _CLAUSE_PUNCTUATION.split(sentence)]
    clauses: list[_Clause] = []
    for index, piece in enumerate(pieces):
        if not piece:
            continue
        last = index == len(pieces) - 1
        lead_in = len(piece) < min_chars and not last
        opens_subordinate = family == "en" and not last and _starts_with_any(piece.lower(), _ENGLISH_SUBORDINATORS)
        clauses.append(_Clause(piece, subordinate=lead_in or opens_subordinate))
    return clauses or [_Clause(sentence, subordinate=False)]


def _korean_clauses(sentence: str) -> list[_Clause]:
    """Clauses at connective endings (subordinate) and at commas after a verbal ending (coordinate, main)."""
    cuts = {match.end(): True for match in _KOREAN_CLAUSE_ENDING.finditer(sentence)}
    for match in _CLAUSE_PUNCTUATION.finditer(sentence):
        cut = match.start()
        if sentence[cut] != "," or sentence[cut - 1 : cut] in _KOREAN_VERBAL_FINALS:
            cuts.setdefault(cut, sentence[cut - 1 : cut] in "면데만까록서도")  # a connective ending before it
    clauses: list[_Clause] = []
    start = 0
    for cut in sorted(cuts):
        piece = sentence[start:cut].strip(" ,，、;:；：")
        if piece:
            clauses.append(_Clause(piece, subordinate=cuts[cut]))
        start = cut
    tail = sentence[start:].strip(" ,，、;:；：")
    if tail:
        clauses.append(_Clause(tail, subordinate=False))
    return clauses or [_Clause(sentence, subordinate=False)]


def _joined(first: str, second: str, sentence: str) -> str:
    """Two neighbouring clauses as they read in ``sentence`` (with the comma between them, if it had one)."""
    together = sentence.find(first)
    if together >= 0:
        end = sentence.find(second, together + len(first))
        if end >= 0:
            return sentence[together : end + len(second)]
    return f"{first} {second}"


def _starts_with_any(text: str, words: tuple[str, ...]) -> bool:
    return any(text == word or text.startswith(word + " ") for word in words)


def _without_leading_conjunction(text: str, family: str) -> str:
    leading = _KOREAN_LEADING_CONJUNCTIONS if family == "ko" else _ENGLISH_LEADING_CONJUNCTIONS
    for conjunction in leading:
        if text.lower().startswith(conjunction) and len(text) > len(conjunction) + 3:
            return text[len(conjunction) :].lstrip()
    return text


def _korean_topic(leading_clause: str, main: str) -> str:
    """The subject a Korean main clause lost: the clause before it minus its predicate, when that ends in a
    topic word ("피싱은 흔하지만" → "피싱은"; "…잠그는 습관은 작지만" → "…잠그는 습관은"), and only when the main
    clause names no topic of its own."""
    words = leading_clause.split(" ")
    if len(words) < 2 or not _KOREAN_TOPIC.match(words[-2]):
        return ""
    if any(_KOREAN_TOPIC.match(word) for word in main.split(" ")[:-1]):
        return ""
    return " ".join(words[:-1])


def _topic_choices(topic: str) -> list[str]:
    """The whole topic phrase, then its topic word alone ("…잠그는 습관은" → "습관은")."""
    if not topic:
        return []
    last = topic.rsplit(" ", 1)[-1]
    return [topic] if last == topic else [topic, last]


# ---- making it fit -----------------------------------------------------------------------------------


def _fit(phrase: str, language: str) -> str:
    """``phrase`` under the limit without an ellipsis, keeping whole words (see the module docstring)."""
    limit = on_screen_max_chars(language)
    if len(phrase) < limit:
        return phrase
    words = phrase.split(" ")
    if language_family(language) in DENSE_SCRIPT_FAMILIES:
        # The predicate comes last: keep the longest tail of whole words that fits.
        for start in range(1, len(words)):
            tail = " ".join(words[start:])
            if len(tail) < limit and len(words) - start >= 2:
                return tail
    else:
        # Drop whole trailing phrases: end before a preposition, conjunction or relative word.
        for end in range(len(words) - 1, 2, -1):
            head = " ".join(words[:end])
            if len(head) < limit and words[end].lower() in _ENGLISH_TAIL_STARTS:
                return _without_dangling_words(head.rstrip(_TRAILING))
        for end in range(len(words) - 1, 1, -1):
            head = _without_dangling_words(" ".join(words[:end]).rstrip(_TRAILING))
            if len(head) < limit:
                return head
    return shorten_phrase(phrase, language)


def _without_dangling_words(cut: str) -> str:
    words = cut.split(" ")
    while len(words) > 2 and words[-1].lower() in _DANGLING_WORDS:
        words.pop()
    return " ".join(words).rstrip(_TRAILING)
