"""split_sentences: Korean endings, English abbreviations and decimals, mixed text."""

import pytest

from reelflow.script.sentences import cut_to_length, split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "피싱은 위험합니다. 조심하세요! 정말일까요? 그렇죠. 끝입니다",
            ["피싱은 위험합니다.", "조심하세요!", "정말일까요?", "그렇죠.", "끝입니다"],
        ),
        ("무엇을 해야 할까요?? 바로 신고입니다!!", ["무엇을 해야 할까요??", "바로 신고입니다!!"]),
        ("위험합니다.그러나 막을 수 있어요", ["위험합니다.", "그러나 막을 수 있어요"]),
        ("첫 문장입니다。두 번째 문장！세 번째？", ["첫 문장입니다。", "두 번째 문장！", "세 번째？"]),
        ('그는 "조심하세요."라고 말했다. 다음 문장입니다.', ['그는 "조심하세요."라고 말했다.', "다음 문장입니다."]),
        ('팀장이 말했다. "지금 바꾸세요." 그래서 바꿨다.', ["팀장이 말했다.", '"지금 바꾸세요."', "그래서 바꿨다."]),
        ("비율은 3.5배입니다. 버전 2.0도 같습니다.", ["비율은 3.5배입니다.", "버전 2.0도 같습니다."]),
        ("그런데... 이건 한 문장입니다.", ["그런데... 이건 한 문장입니다."]),
    ],
)
def test_korean_sentences_end_at_korean_endings_and_punctuation(text: str, expected: list[str]) -> None:
    assert split_sentences(text, "ko") == expected


def test_korean_line_ending_in_a_final_ending_is_a_sentence_even_without_a_period() -> None:
    text = "첫 줄은 이렇게 끝납니다\n두 번째 줄이 이어집니다\n이 줄은 문장이\n이어지는 중입니다"
    assert split_sentences(text, "ko") == [
        "첫 줄은 이렇게 끝납니다",
        "두 번째 줄이 이어집니다",
        "이 줄은 문장이 이어지는 중입니다",
    ]


def test_korean_nouns_ending_in_da_or_yo_do_not_end_a_wrapped_line() -> None:
    text = "데이터를 보다\n정확하게 보는 것이 중요\n합니다."
    assert split_sentences(text, "ko") == ["데이터를 보다 정확하게 보는 것이 중요 합니다."]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith met Dr. Lee in the U.S. last year. It cost $3.5 million, i.e. a lot. Really?! Yes.",
            ["Mr. Smith met Dr. Lee in the U.S. last year.", "It cost $3.5 million, i.e. a lot.", "Really?!", "Yes."],
        ),
        (
            "Use tools, e.g. a password manager. See Fig. 2 for details. We met at 9 a.m. Then we left.",
            ["Use tools, e.g. a password manager.", "See Fig. 2 for details.", "We met at 9 a.m.", "Then we left."],
        ),
        (
            "Apples, pears, etc. are fruit. I like pears, etc. They are sweet.",
            ["Apples, pears, etc. are fruit.", "I like pears, etc.", "They are sweet."],
        ),
        ("J. R. R. Tolkien wrote it. Prof. Kim agreed.", ["J. R. R. Tolkien wrote it.", "Prof. Kim agreed."]),
        ("The U.S. Department of State agreed. So did we.", ["The U.S. Department of State agreed.", "So did we."]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ("Read this (it is short.) Then act.", ["Read this (it is short.)", "Then act."]),
        ("Version 2.0 is out. Visit example.com. Done", ["Version 2.0 is out.", "Visit example.com.", "Done"]),
        ("Pi is 3.14159. Half is 0.5.", ["Pi is 3.14159.", "Half is 0.5."]),
        ("Wait... what happened? Nothing.", ["Wait... what happened?", "Nothing."]),
    ],
)
def test_english_abbreviations_and_decimals_do_not_split(text: str, expected: list[str]) -> None:
    assert split_sentences(text, "en") == expected


def test_mixed_korean_and_english_text() -> None:
    text = "피싱(phishing)은 e.g. 이메일로 옵니다. MFA를 켜세요. It works in the U.S. too. 정말요?"
    assert split_sentences(text, "ko") == [
        "피싱(phishing)은 e.g. 이메일로 옵니다.",
        "MFA를 켜세요.",
        "It works in the U.S. too.",
        "정말요?",
    ]


def test_blank_lines_end_sentences_and_single_newlines_are_spaces_in_english() -> None:
    text = "A sentence that\nwraps onto two lines.\n\nA heading-like line\n\nLast one"
    assert split_sentences(text, "en") == [
        "A sentence that wraps onto two lines.",
        "A heading-like line",
        "Last one",
    ]


def test_whitespace_is_collapsed_and_empty_text_has_no_sentences() -> None:
    assert split_sentences("  One.   \t Two.  ", "en") == ["One.", "Two."]
    assert split_sentences("   \n\n  ", "ko") == []


def test_regional_language_tags_use_their_family_rules() -> None:
    assert split_sentences("첫 줄입니다\n둘째 줄입니다", "ko-KR") == ["첫 줄입니다", "둘째 줄입니다"]
    assert split_sentences("First line\nsecond line", "en-GB") == ["First line second line"]


# ---- cutting a sentence too long for one narration -----------------------------------------------------------------
def test_text_that_fits_is_returned_as_it_is() -> None:
    assert cut_to_length("Short  sentence.", 100) == ["Short sentence."]
    assert cut_to_length("", 10) == []


def test_a_long_unpunctuated_text_is_cut_evenly_at_spaces_and_loses_no_word() -> None:
    words = [f"word{n}" for n in range(600)]
    text = " ".join(words)
    pieces = cut_to_length(text, 2000)
    assert len(pieces) == 3 and all(len(piece) <= 2000 for piece in pieces)
    assert max(map(len, pieces)) - min(map(len, pieces)) < 200, "even pieces, not 2000 + 2000 + the rest"
    assert " ".join(pieces).split() == words, "every word once, in order, none cut"


def test_a_clause_end_near_an_even_share_is_preferred_to_a_space() -> None:
    text = "alpha " * 30 + "beta, " + "gamma " * 30
    pieces = cut_to_length(text.strip(), 200)
    assert pieces[0].endswith("beta,")
    assert all(len(piece) <= 200 for piece in pieces)


def test_a_word_is_cut_only_when_there_is_no_space_to_cut_at() -> None:
    assert cut_to_length("x" * 5000, 2000) == ["x" * 1667, "x" * 1667, "x" * 1666]
    korean = "안녕하세요 " * 600
    assert all(len(piece) <= 2000 and not piece.startswith(" ") for piece in cut_to_length(korean, 2000))
    assert "".join(cut_to_length(korean, 2000)).replace(" ", "") == korean.replace(" ", "")
