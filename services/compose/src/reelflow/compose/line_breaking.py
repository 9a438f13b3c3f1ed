"""Where subtitle lines may break, and how wide they are, for Korean (between eojeol) and English alike.

Width is counted in display columns, as terminals count it (Unicode East Asian Width): a Hangul or CJK
glyph takes two columns, and a Latin letter, digit, space or punctuation mark takes one. Measured in
libass with NanumGothic Bold, one column is about 0.41 of the ASS font size in both scripts. That is
why one per-line budget serves Korean and English alike, and why cue planning needs no font file.
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

MAX_LINES = 2


class BreakKind(IntEnum):
    """How good the end of a piece is as a place for a line or cue break; higher is better."""

    WITHIN_WORD = 0  # inside a token wider than a whole line: after a hyphen or slash, or between CJK ideographs
    SPACE = 1
    CONNECTIVE = 2  # after a Korean eojeol that ends in a connective ending (-고, -며, -지만, ...): a clause seam
    CLAUSE = 3  # after , ; : and dashes, and their full-width forms
    SENTENCE = 4  # after . ! ? … and their full-width forms


_SENTENCE_MARKS = frozenset(".!?…。！？‼⁇⁈⁉")
_CLAUSE_MARKS = frozenset(",;:，、；：—–")
# Closing quotes and brackets belong to the mark before them: `말했다."` still ends a sentence.
_CLOSERS = frozenset("\"')]}”’」』】》〉")
_WITHIN_WORD_MARKS = frozenset("-/–—…,;:.!?，、；：。！？")
# A soft hint, not grammar: a noun such as 최고 also ends in 고, and at worst it is slightly preferred.
_KOREAN_CONNECTIVE_ENDINGS = (
    "고",
    "며",
    "면",
    "면서",
    "지만",
    "는데",
    "은데",
    "어서",
    "아서",
    "해서",
    "니까",
    "므로",
    "도록",
    "려면",
    "거나",
    "다가",
)


def display_columns(text: str) -> int:
    """Columns ``text`` takes on one line: two per Hangul/CJK glyph, none for combining marks, else one."""
    return sum(_char_columns(char) for char in text)


def _char_columns(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _is_hangul_syllable(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


def _is_ideograph_or_kana(char: str) -> bool:
    """Chinese and Japanese may break between any two such glyphs; Korean breaks only between eojeol."""
    code = ord(char)
    return 0x3040 <= code <= 0x30FF or 0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF


def break_after(token: str) -> BreakKind:
    """How good a break after this whitespace-separated token is."""
    core = token.rstrip("".join(_CLOSERS)) or token
    if core[-1] in _SENTENCE_MARKS:
        return BreakKind.SENTENCE
    if core[-1] in _CLAUSE_MARKS:
        return BreakKind.CLAUSE
    if len(core) >= 2 and all(map(_is_hangul_syllable, core)) and core.endswith(_KOREAN_CONNECTIVE_ENDINGS):
        return BreakKind.CONNECTIVE
    return BreakKind.SPACE


def split_within_word(token: str) -> list[str]:
    """``token`` cut after in-word punctuation (``well-`` ``known``) and between CJK ideographs, nowhere else.

    Only tokens wider than a whole line are cut like this. A part that is still too wide stays whole,
    because a subtitle never cuts a word mid-letter.
    """
    parts: list[str] = []
    current = ""
    for index, char in enumerate(token):
        current += char
        following = token[index + 1] if index + 1 < len(token) else ""
        after_mark = char in _WITHIN_WORD_MARKS and following.isalpha()
        between_ideographs = _is_ideograph_or_kana(char) and following != "" and _is_ideograph_or_kana(following)
        if after_mark or between_ideographs:
            parts.append(current)
            current = ""
    if current:
        parts.append(current)
    return parts


@dataclass(frozen=True)
class Piece:
    """A run of text that no line or cue break may fall inside."""

    text: str
    columns: int
    spaced: bool  # a space comes before it; False only for the later parts of a token cut by split_within_word
    break_after: BreakKind


def break_pieces(text: str, max_columns: int) -> list[Piece]:
    """``text`` as pieces in order: one per word, except that words wider than ``max_columns`` are cut further."""
    pieces: list[Piece] = []
    for token in text.split():
        kind = break_after(token)
        parts = split_within_word(token) if display_columns(token) > max_columns else [token]
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            pieces.append(
                Piece(
                    text=part,
                    columns=display_columns(part),
                    spaced=index == 0,
                    break_after=kind if last else BreakKind.WITHIN_WORD,
                )
            )
    return pieces


# How much imbalance between two lines (as a share of the line budget) a better break point is worth.
_LINE_BREAK_BONUS = {
    BreakKind.WITHIN_WORD: -0.3,
    BreakKind.SPACE: 0.0,
    BreakKind.CONNECTIVE: 0.1,
    BreakKind.CLAUSE: 0.25,
    BreakKind.SENTENCE: 0.3,
}


@dataclass(frozen=True)
class PieceRun:
    """Pieces with their running column offsets, so the width of any span of them is one subtraction."""

    pieces: tuple[Piece, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, pieces: Sequence[Piece]) -> "PieceRun":
        starts: list[int] = []
        ends: list[int] = []
        position = 0
        for index, piece in enumerate(pieces):
            if index and piece.spaced:
                position += 1
            starts.append(position)
            position += piece.columns
            ends.append(position)
        return cls(pieces=tuple(pieces), starts=tuple(starts), ends=tuple(ends))

    def __len__(self) -> int:
        return len(self.pieces)

    def columns(self, first: int, stop: int) -> int:
        """Width of pieces ``first`` up to (not including) ``stop`` set on one line."""
        return self.ends[stop - 1] - self.starts[first]

    def text(self, first: int, stop: int) -> str:
        return "".join(
            (" " if piece.spaced and index > first else "") + piece.text
            for index, piece in enumerate(self.pieces[first:stop], start=first)
        )

    def line_fits(self, first: int, stop: int, max_columns: int) -> bool:
        """A line fits when it is within budget, or is a single piece that nothing could make narrower."""
        return stop - first == 1 or self.columns(first, stop) <= max_columns

    def fits_lines(self, first: int, stop: int, max_columns: int, max_lines: int = MAX_LINES) -> bool:
        """Whether the span can be set in ``max_lines`` lines that each fit (greedy filling is optimal here)."""
        lines = 0
        line_start = first
        while line_start < stop:
            lines += 1
            if lines > max_lines:
                return False
            line_stop = line_start + 1
            while line_stop < stop and self.line_fits(line_start, line_stop + 1, max_columns):
                line_stop += 1
            line_start = line_stop
        return True

    def wrap(self, first: int, stop: int, max_columns: int) -> list[str]:
        """The span as one line when it fits, else the best-looking two lines.

        Two lines are balanced in width, with the break pulled towards punctuation and clause seams
        and, all else equal, the longer line at the bottom. When no two lines fit (only for text that
        was forced into one cue) the lines widen as little as possible. Text is never dropped and
        a third line is never added.
        """
        if self.line_fits(first, stop, max_columns):
            return [self.text(first, stop)]
        splits = range(first + 1, stop)
        fitting = [
            split
            for split in splits
            if self.line_fits(first, split, max_columns) and self.line_fits(split, stop, max_columns)
        ]
        if fitting:
            split = min(fitting, key=lambda at: self._two_line_score(first, at, stop, max_columns))
        else:
            split = min(splits, key=lambda at: max(self.columns(first, at), self.columns(at, stop)))
        return [self.text(first, split), self.text(split, stop)]

    def _two_line_score(self, first: int, split: int, stop: int, max_columns: int) -> tuple[float, bool, int]:
        top, bottom = self.columns(first, split), self.columns(split, stop)
        bonus = _LINE_BREAK_BONUS[self.pieces[split - 1].break_after] * max_columns
        return (abs(top - bottom) - bonus, top > bottom, split)


def wrap_lines(text: str, max_columns: int) -> list[str]:
    """``text`` in at most two lines of ``max_columns`` (see :meth:`PieceRun.wrap`); ``[]`` for blank text."""
    pieces = break_pieces(text, max_columns)
    return PieceRun.of(pieces).wrap(0, len(pieces), max_columns) if pieces else []
