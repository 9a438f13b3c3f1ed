"""The written forms a voice misreads (numbers, dates, times, phone numbers, URLs), as patterns both languages share.

Each language module pairs these patterns with its own way of saying them, as an ordered list of
:class:`ReadingRule`; :func:`apply_rules` runs them in order. A rule's output holds no digits and none of the
symbols a later rule looks for, so no rule reads another's words again.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

# A number as people write it: 1500, 1,500, 3.5, 1,500.25. The lookbehind keeps digits glued to a Latin
# letter (MP3, A4, H1N1) or to a dot (the 3 of v1.2.3) as they are; Hangul may come before (제3장).
NUMBER_START = r"(?<![A-Za-z0-9_.])"
NUMBER_END = r"(?![0-9]|[.,][0-9])"


def number_pattern(name: str) -> str:
    """A number with groups ``{name}`` (its integer part, maybe with thousands commas) and ``{name}_frac``."""
    return rf"(?P<{name}>\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.(?P<{name}_frac>\d+))?"


# A minus sign only counts at the start of a word ("-5", "(−5"), not in "COVID-19" or "3-5".
SIGN = r"(?P<sign>(?<![^\s(])[-−])?"

# Past this many digits a number is an identifier, read digit by digit: nobody says "forty quadrillion".
MAX_CARDINAL_DIGITS = 15

PHONE_NUMBER = re.compile(
    r"(?<![\w+-])(?:"
    r"(?P<country>\+\d{1,3})[ -]?(?:\(0?\d{1,4}\)[ -]?|\d{1,4}[ -])\d{3,4}[ -]\d{4}"
    r"|(?:\(\d{2,4}\)[ -]?|\d{2,4}-)\d{3,4}-\d{4}"
    r"|1[5-9]\d{2}-\d{4}"  # Korean nationwide service numbers: 1588-1234
    r")(?![\w-])"
)

ISO_DATE = re.compile(
    r"(?<![\w.-])(?P<year>\d{4})(?P<sep>[-./])\s?(?P<month>\d{1,2})(?P=sep)\s?(?P<day>\d{1,2})(?![\w-]|[./]\d)"
)
SLASH_DATE = re.compile(r"(?<![\w/])(?P<first>\d{1,2})/(?P<second>\d{1,2})/(?P<year>\d{4})(?![\w/])")

CLOCK_TIME = re.compile(
    r"(?:(?P<half>오전|오후)\s?)?(?<![\w:.])(?P<hour>\d{1,2}):(?P<minute>[0-5]\d)(?::(?P<second>[0-5]\d))?"
    r"(?![\d:])(?:\s?(?P<meridiem>[AaPp]\.?[Mm]\b\.?))?"
)

# Dotted numbers with three or more parts: versions and addresses (v1.2.3, 192.168.0.1). Dates go first.
DOTTED_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+){2,}(?![\w.]|\.\d)")

# Korean particles follow addresses directly (example.com에), so an address ends where Latin letters do.
EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])"
)
_TOP_LEVEL_DOMAINS = "com|org|net|edu|gov|mil|int|io|dev|app|ai|co|kr|uk|us|me|info|biz|tv|jp|cn|de|fr|ca|au|eu"
URL = re.compile(
    rf"(?:https?://|www\.)[^\s<>\"'()]+"
    rf"|(?<![\w@.-])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:{_TOP_LEVEL_DOMAINS})(?![A-Za-z0-9-])(?:/[^\s<>\"'()]*)?",
    re.IGNORECASE,
)
_URL_TRAILING_PUNCTUATION = ".,!?;:"


@dataclass(frozen=True)
class WebAddress:
    """A URL or email split into what is said: host labels and path segments (scheme, query and fragment are not)."""

    user: str | None
    host_labels: list[str]
    path_segments: list[str]
    trailing: str


def web_address(written: str) -> WebAddress:
    """Split ``written`` (a URL or an email address); sentence punctuation after it is kept apart in ``trailing``."""
    core = written.rstrip(_URL_TRAILING_PUNCTUATION)
    trailing = written[len(core) :]
    if "@" in core and "/" not in core:
        user, host = core.split("@", 1)
        return WebAddress(user=user, host_labels=host.split("."), path_segments=[], trailing=trailing)
    address = re.sub(r"^https?://", "", core, flags=re.IGNORECASE)
    address = re.sub(r"^www\.", "", address, flags=re.IGNORECASE)
    address = re.split(r"[?#]", address, maxsplit=1)[0]
    host, _, path = address.partition("/")
    host = host.split(":", 1)[0]
    return WebAddress(
        user=None,
        host_labels=[label for label in host.split(".") if label],
        path_segments=[segment for segment in path.split("/") if segment],
        trailing=trailing,
    )


def speak_web_address(address: WebAddress, *, dot: str, slash: str, at: str, dash: str, underscore: str) -> str:
    """The address as words, with the given words for its separators."""

    def word(part: str) -> str:
        part = part.replace("-", f" {dash} ").replace("_", f" {underscore} ")
        return re.sub(r"[.]", f" {dot} ", part)

    spoken = f" {dot} ".join(word(label) for label in address.host_labels)
    if address.user is not None:
        spoken = f"{word(address.user)} {at} {spoken}"
    for segment in address.path_segments:
        spoken += f" {slash} {word(segment)}"
    return re.sub(r"\s+", " ", spoken).strip() + address.trailing


def digits_only(written: str) -> str:
    return re.sub(r"\D", "", written)


def digit_groups(written: str) -> list[str]:
    """``"010-1234-5678"`` → ``["010", "1234", "5678"]``: how a phone number is chunked when said."""
    return re.findall(r"\d+", written)


def ends_sentence(match: re.Match[str]) -> bool:
    """Whether the full stop a match swallowed (``etc.``, ``p.m.``) was also its sentence's end."""
    if not match.group(0).endswith("."):
        return False
    rest = match.string[match.end() :]
    return not rest.strip() or re.match(r"\s+[A-Z가-힣\"“(]", rest) is not None


def plausible_date(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


@dataclass(frozen=True)
class ReadingRule:
    """One kind of written form and how to say it. ``read`` returns ``None`` to keep the text as written."""

    name: str
    pattern: re.Pattern[str]
    read: Callable[[re.Match[str]], str | None]


# What a reader may raise on input it was not built for (num2words raises OverflowError, NotImplementedError...).
_UNREADABLE = (ArithmeticError, ValueError, LookupError, NotImplementedError, TypeError)


def apply_rules(text: str, rules: Sequence[ReadingRule]) -> str:
    """Every rule in order over ``text``; a match a rule cannot read stays as written."""
    for rule in rules:
        text = rule.pattern.sub(partial(_read_or_keep, rule), text)
    return text


def _read_or_keep(rule: ReadingRule, match: re.Match[str]) -> str:
    try:
        spoken = rule.read(match)
    except _UNREADABLE:
        return match.group(0)
    return match.group(0) if spoken is None else spoken
