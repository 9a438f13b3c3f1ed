"""On-screen key phrases and reading-speed durations."""

import pytest

from reelflow.script.key_phrase import join_phrases, key_phrase, shorten_phrase
from reelflow.script.partitioning import balanced_partition, merge_smallest_adjacent, proportional_partition
from reelflow.script.reading_speed import estimate_speech_sec, scene_duration_sec


@pytest.mark.parametrize(
    ("text", "language", "phrase"),
    [
        # The issue's own examples: the instruction or the warning, not the clause that leads to it.
        (
            "When you set the load down, bend your knees and keep your back straight.",
            "en",
            "Bend your knees and keep your back straight",
        ),
        ("If anything hurts, stop and tell your supervisor.", "en", "Stop and tell your supervisor"),
        ("통증이 없다면 다음 동작을 시도할 수 있지만 무리하지 마세요.", "ko", "무리하지 마세요"),
        # Korean is head-final: the main clause comes after the connective ending, with the topic carried over.
        ("피싱은 흔하지만 막을 수 있습니다. 두 번째 문장.", "ko", "피싱은 막을 수 있습니다"),
        ("메일을 열었는데 링크가 이상했습니다.", "ko", "링크가 이상했습니다"),
        ("정리하면, 길고 고유한 비밀번호가 좋습니다.", "ko", "길고 고유한 비밀번호가 좋습니다"),
        ("화면 필름을 쓰거나, 사람이 적은 곳에서 여세요.", "ko", "사람이 적은 곳에서 여세요"),
        # A main clause too short to say anything takes the clause before it along.
        ("비밀번호가 유출되더라도 이중 인증이 켜져 있으면 안전합니다.", "ko", "이중 인증이 켜져 있으면 안전합니다"),
        # Of two main clauses the first, without the conjunction; a warning wins over the first.
        ("보낸 사람을 확인하세요, 그리고 링크를 보세요.", "ko", "보낸 사람을 확인하세요"),
        ("You can lift twenty kilograms alone, but never twist your back.", "en", "Never twist your back"),
        ("무거운 상자는 혼자 들 수 있지만, 허리를 비틀면 안 됩니다.", "ko", "허리를 비틀면 안 됩니다"),
        # A short lead-in gives way; a short last clause keeps its neighbour.
        ("However, attackers adapt quickly; stay alert.", "en", "Attackers adapt quickly; stay alert"),
        ("Phishing is a scam, and it works. Second sentence.", "en", "Phishing is a scam, and it works"),
        ("The rule: verify first.", "en", "The rule: verify first"),
        ("Stop and think before you click.", "en", "Stop and think before you click"),
        ("정말요?!", "ko", "정말요"),
        # A Korean comma between listed nouns is not a clause end.
        ("은행, 택배 회사, 심지어 IT 팀을 사칭합니다.", "ko", "은행, 택배 회사, 심지어 IT 팀을 사칭합니다"),
        ("iPhone users, update today.", "en", "iPhone users, update today"),
    ],
)
def test_key_phrase_is_the_main_clause_or_the_warning(text: str, language: str, phrase: str) -> None:
    assert key_phrase(text, language) == phrase


def test_a_long_main_clause_fits_without_an_ellipsis_by_dropping_whole_phrases() -> None:
    english = "Attackers frequently impersonate delivery companies and banks to steal credentials quickly."
    # A trailing phrase is dropped whole, before "and", and nothing marks a cut.
    assert key_phrase(english, "en") == "Attackers frequently impersonate delivery companies"
    korean = (
        "공격자는 택배 회사와 은행과 카드 회사와 통신사를 사칭하여 사람들의 비밀번호와 인증 코드를 빼앗으려고 합니다."
    )
    phrase = key_phrase(korean, "ko")
    # The predicate comes last in Korean, so leading words go: the phrase is a tail of whole words.
    assert phrase == "통신사를 사칭하여 사람들의 비밀번호와 인증 코드를 빼앗으려고 합니다"
    assert len(phrase) < 40


@pytest.mark.parametrize("language", ["ko", "en"])
def test_key_phrase_always_fits_without_an_ellipsis_when_the_text_has_spaces(language: str) -> None:
    limit = 40 if language == "ko" else 60
    word = "단어를" if language == "ko" else "words"
    ending = " 했습니다." if language == "ko" else " matter."
    for length in range(1, 60):
        text = " ".join([word] * length) + ending
        phrase = key_phrase(text, language)
        assert 0 < len(phrase) < limit, phrase
        assert not phrase.endswith("…"), phrase
        assert phrase.lower() in text.lower(), phrase


@pytest.mark.parametrize("language", ["ko", "en"])
def test_shorten_phrase_never_reaches_the_limit(language: str) -> None:
    limit = 40 if language == "ko" else 60
    for length in range(1, 130):
        text = " ".join(["단어" if language == "ko" else "word"] * length)
        phrase = shorten_phrase(text, language)
        assert len(phrase) < limit
        head = phrase.removesuffix("…")
        assert text.startswith(head)
        assert len(head) == len(text) or text[len(head)] == " "
    assert shorten_phrase("Short enough", "en") == "Short enough"
    assert shorten_phrase("x" * 59, "en") == "x" * 59
    assert shorten_phrase("x" * 60, "en") == "x" * 58 + "…"  # one unspaced word: the only mid-word cut


def test_join_phrases_keeps_as_many_as_fit() -> None:
    assert join_phrases(["Lock your screen", "Use a manager", "Report"], "en") == (
        "Lock your screen · Use a manager · Report"
    )
    assert join_phrases(["A" * 30, "B" * 30], "en") == "A" * 30
    assert join_phrases(["화면을 잠그세요", "신고하세요"], "ko") == "화면을 잠그세요 · 신고하세요"


def test_key_phrase_is_never_empty() -> None:
    assert key_phrase("?!", "en") == "?!"
    assert key_phrase("...", "ko") == "..."
    assert key_phrase("가" * 100, "ko") == "가" * 38 + "…"


@pytest.mark.parametrize(
    ("text", "language", "seconds"),
    [
        ("가나다라마바사", "ko", 1.0),  # 7 syllables at 7/s
        ("가" * 70, "ko", 10.0),
        ("가" * 70 + " MFA VPN", "ko", 10.0 + 2 / 2.6),  # non-Hangul words at the English rate
        (" ".join(["word"] * 26), "en", 10.0),
        (" ".join(["one-time"] * 13), "en-GB", 5.0),  # hyphenated words count once
        ("a" * 140, "de", 10.0),  # character fallback: 14 letters a second
        ("漢" * 70, "zh", 10.0),  # CJK ideographs: 7 a second
    ],
)
def test_estimate_speech_sec_uses_the_reading_speed_of_the_language(text: str, language: str, seconds: float) -> None:
    assert estimate_speech_sec(text, language) == pytest.approx(seconds)


def test_scene_duration_is_rounded_to_a_tenth_with_a_one_second_floor() -> None:
    assert scene_duration_sec("가" * 10, "ko") == 1.4  # 1.428…
    assert scene_duration_sec("가" * 11, "ko") == 1.6  # 1.571…
    assert scene_duration_sec("Hi.", "en") == 1.0
    assert scene_duration_sec(" ".join(["word"] * 40), "en") == 15.4  # 15.38…


def test_balanced_partition_evens_out_groups() -> None:
    assert balanced_partition([1, 1, 1, 1], 2) == [(0, 2), (2, 4)]
    assert balanced_partition([10, 1, 1, 1, 1, 10], 3) == [(0, 1), (1, 5), (5, 6)]
    assert balanced_partition([5, 5, 5], 1, allowed=lambda s, e: True) == [(0, 3)]


def test_balanced_partition_respects_allowed_and_rejects_the_impossible() -> None:
    at_most_two = balanced_partition([1] * 6, 3, allowed=lambda start, end: end - start <= 2)
    assert at_most_two == [(0, 2), (2, 4), (4, 6)]
    with pytest.raises(ValueError, match="no partition"):
        balanced_partition([1] * 6, 2, allowed=lambda start, end: end - start <= 2)
    with pytest.raises(ValueError, match="non-empty"):
        balanced_partition([1, 2], 3)


def test_proportional_partition_cuts_near_equal_shares() -> None:
    assert proportional_partition([100, 100, 100, 100, 100, 100], 3) == [(0, 2), (2, 4), (4, 6)]
    assert proportional_partition([500, 10, 10, 10, 500], 2) == [(0, 2), (2, 5)]
    # Every run keeps at least one item even when one weight dominates.
    assert proportional_partition([1000, 1, 1], 3) == [(0, 1), (1, 2), (2, 3)]


def test_merge_smallest_adjacent_merges_the_lightest_pair_first_within_the_cap() -> None:
    assert merge_smallest_adjacent([5, 1, 1, 5], 3, cap=100) == [(0, 1), (1, 3), (3, 4)]
    assert merge_smallest_adjacent([3, 3, 3, 3], 2, cap=100, joiner=1) == [(0, 2), (2, 4)]
    # No pair fits under the cap: merging stops and the caller sees more runs than asked for.
    assert merge_smallest_adjacent([60, 60, 60], 1, cap=100) == [(0, 1), (1, 2), (2, 3)]
    assert merge_smallest_adjacent([40, 40, 40], 1, cap=100, joiner=1) == [(0, 2), (2, 3)]
