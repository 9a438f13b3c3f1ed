"""Subtitle line breaking: Korean breaks only between eojeol, English only between words, at most two lines."""

import pytest

from reelflow.compose.line_breaking import (
    BreakKind,
    break_after,
    break_pieces,
    display_columns,
    split_within_word,
    wrap_lines,
)

KOREAN = "피싱은 신뢰할 수 있는 기관을 사칭해 개인정보를 빼내는 사기입니다."
ENGLISH = "Phishing is a scam in which someone pretends to be a trusted sender."


def test_hangul_counts_two_columns_latin_one_and_combining_marks_none() -> None:
    assert display_columns("피싱") == 4
    assert display_columns("Phish") == 5
    assert display_columns("IT 부서") == 7
    assert display_columns("e\u0301") == 1  # e + combining acute accent
    assert display_columns("、。") == 4  # full-width punctuation


@pytest.mark.parametrize(("text", "columns"), [(KOREAN, 42), (ENGLISH, 42), (KOREAN, 38), (ENGLISH, 38)])
def test_wrapping_keeps_every_word_whole_in_order_on_at_most_two_fitting_lines(text: str, columns: int) -> None:
    lines = wrap_lines(text, columns)

    assert len(lines) == 2
    assert " ".join(lines).split() == text.split()  # no eojeol/word was split, none dropped or reordered
    assert all(display_columns(line) <= columns for line in lines)


def test_text_that_fits_stays_on_one_line() -> None:
    assert wrap_lines("Check the sender.", 42) == ["Check the sender."]
    assert wrap_lines("피싱이란 무엇인가?", 42) == ["피싱이란 무엇인가?"]
    assert wrap_lines("   ", 42) == []


def test_two_lines_are_balanced() -> None:
    top, bottom = wrap_lines(ENGLISH, 42)

    assert abs(display_columns(top) - display_columns(bottom)) <= max(len(word) for word in ENGLISH.split()) + 1


def test_lines_break_after_a_sentence_end_when_one_is_close_to_the_middle() -> None:
    assert wrap_lines("피싱은 사기입니다. 링크를 누르지 마세요.", 22) == ["피싱은 사기입니다.", "링크를 누르지 마세요."]


def test_lines_break_after_a_comma_rather_than_at_the_most_even_space() -> None:
    text = "When the link looks odd, never click it at all"
    plain_space_split = ["When the link looks odd, never", "click it at all"]

    assert wrap_lines(text, 30) == ["When the link looks odd,", "never click it at all"]
    assert wrap_lines(text.replace(",", ""), 30) != plain_space_split  # without the comma it balances instead


def test_a_very_long_word_is_never_cut() -> None:
    word = "Supercalifragilisticexpialidocious"
    korean_word = "보안담당자에게즉시신고하고비밀번호를변경하세요"

    assert wrap_lines(word, 20) == [word]
    assert wrap_lines(korean_word, 20) == [korean_word]
    around = wrap_lines(f"Say {word} twice", 20)
    assert len(around) == 2
    assert " ".join(around).split() == ["Say", word, "twice"]


def test_a_token_wider_than_a_line_may_break_only_after_its_punctuation() -> None:
    assert split_within_word("state-of-the-art") == ["state-", "of-", "the-", "art"]
    assert split_within_word("example.com/login") == ["example.", "com/", "login"]
    assert split_within_word("3.14-5") == ["3.14-5"]  # no break before a digit or between marks
    assert split_within_word("피싱메일") == ["피싱메일"]  # Korean never breaks inside an eojeol
    assert split_within_word("東京都") == ["東", "京", "都"]  # Chinese/Japanese may break between ideographs

    lines = wrap_lines("https://example.com/account/login-now", 20)
    assert "".join(lines) == "https://example.com/account/login-now"
    assert all(line.endswith(("/", "-", ".")) for line in lines[:-1])


def test_only_tokens_wider_than_a_line_are_cut_at_inner_punctuation() -> None:
    pieces = break_pieces("well-known state-of-the-art", 12)

    assert [piece.text for piece in pieces] == ["well-known", "state-", "of-", "the-", "art"]
    assert [piece.spaced for piece in pieces] == [True, True, False, False, False]
    assert pieces[1].break_after is BreakKind.WITHIN_WORD


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ("사기입니다.", BreakKind.SENTENCE),
        ('말했다."', BreakKind.SENTENCE),
        ("really?)", BreakKind.SENTENCE),
        ("そうです。", BreakKind.SENTENCE),
        ("회사,", BreakKind.CLAUSE),
        ("urgent:", BreakKind.CLAUSE),
        ("、", BreakKind.CLAUSE),
        ("유도하고", BreakKind.CONNECTIVE),
        ("말았지만", BreakKind.CONNECTIVE),
        ("고", BreakKind.SPACE),  # a lone syllable is a word of its own, not an ending
        ("sender", BreakKind.SPACE),
        ("3.5", BreakKind.SPACE),
    ],
)
def test_break_quality_after_a_token(token: str, kind: BreakKind) -> None:
    assert break_after(token) is kind
