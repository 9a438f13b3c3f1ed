"""Splitting a scene's narration into cues: sentence ends first, then clauses, then spaces; readable durations."""

from reelflow.compose.cue_chunking import chunk_narration
from reelflow.compose.line_breaking import display_columns

LONG_SENTENCE = "Never type your password into a page that you reached by a link in an odd email."  # 80 columns


def _words(chunks: list[str]) -> list[str]:
    return " ".join(chunks).split()


def test_text_that_fits_two_lines_is_one_chunk() -> None:
    assert chunk_narration("Check the sender.", max_columns=42, window_sec=3.0, min_cue_sec=1.0) == [
        "Check the sender."
    ]
    assert chunk_narration("  ", max_columns=42, window_sec=3.0, min_cue_sec=1.0) == []


def test_chunks_split_at_sentence_ends_before_anything_else() -> None:
    first = "Phishing is a scam in which someone pretends to be a trusted sender."
    second = "The message usually sounds urgent, and it asks you to click a link."

    chunks = chunk_narration(f"{first} {second}", max_columns=42, window_sec=10.0, min_cue_sec=1.0)

    assert [chunk.replace("\n", " ") for chunk in chunks] == [first, second]


def test_a_long_sentence_splits_at_its_clause_punctuation() -> None:
    text = (
        "If a message asks for your password, your card number or a one-time code, "
        "stop and call the sender on a number you already know"
    )

    chunks = chunk_narration(text, max_columns=42, window_sec=10.0, min_cue_sec=1.0)

    assert len(chunks) == 2
    assert chunks[0].endswith("code,")
    assert _words(chunks) == text.split()


def test_korean_chunks_split_at_sentence_ends_and_keep_every_eojeol() -> None:
    text = (
        "공격자는 은행이나 택배 회사처럼 보이는 메일을 보냅니다. "
        "계정이 곧 잠긴다며 긴급한 어조로 링크 클릭을 유도합니다. "
        "의심스러운 메일은 공식 연락처로 직접 확인하세요."
    )

    chunks = chunk_narration(text, max_columns=42, window_sec=15.0, min_cue_sec=1.0)

    assert len(chunks) >= 2
    assert all(chunk.endswith(".") for chunk in chunks)
    assert _words(chunks) == text.split()
    assert all(len(chunk.splitlines()) <= 2 for chunk in chunks)
    assert all(display_columns(line) <= 42 for chunk in chunks for line in chunk.splitlines())


def test_a_chunk_too_short_to_read_is_avoided_by_moving_the_seam() -> None:
    text = f"{LONG_SENTENCE} Stop."

    at_sentence_end = chunk_narration(text, max_columns=42, window_sec=8.0, min_cue_sec=0.0)
    readable = chunk_narration(text, max_columns=42, window_sec=8.0, min_cue_sec=1.0)

    assert at_sentence_end[-1] == "Stop."  # without a minimum, the sentence end wins
    assert len(readable) == 2
    assert readable[-1].endswith("Stop.") and readable[-1] != "Stop."
    total = sum(display_columns(chunk.replace("\n", " ")) for chunk in readable)
    assert all(8.0 * display_columns(chunk.replace("\n", " ")) / total >= 1.0 for chunk in readable)
    assert _words(readable) == text.split()


def test_a_window_shorter_than_the_minimum_gets_one_chunk_with_all_the_text() -> None:
    text = f"{LONG_SENTENCE} Stop."

    [chunk] = chunk_narration(text, max_columns=42, window_sec=0.8, min_cue_sec=1.0)

    assert chunk.split() == text.split()
    assert len(chunk.splitlines()) == 2


def test_an_overlong_word_is_cut_only_after_its_hyphens() -> None:
    word = "Supercalifragilisticexpialidocious-without-any-spaces-at-all-and-longer-than-two-lines"
    text = f"Remember this: {word} is not a password."

    chunks = chunk_narration(text, max_columns=20, window_sec=20.0, min_cue_sec=1.0)
    lines = [line for chunk in chunks for line in chunk.splitlines()]

    assert all(len(chunk.splitlines()) <= 2 for chunk in chunks)
    unspaced = "".join(text.split())
    assert "".join(lines).replace(" ", "") == unspaced  # nothing dropped, nothing reordered
    word_start = unspaced.index(word)
    line_ends, position = [], 0
    for line in lines[:-1]:
        position += len(line.replace(" ", ""))
        line_ends.append(position)
    inside_word = [end for end in line_ends if word_start < end < word_start + len(word)]
    assert inside_word  # the word is wider than two lines, so it had to be cut somewhere
    assert all(unspaced[end - 1] == "-" for end in inside_word)
    assert "Supercalifragilisticexpialidocious-" in lines  # the longest part stays whole, even past the budget
