"""Subtitle cue timing, line wrapping and the SRT / WebVTT / ASS / chapter renderings."""

from itertools import pairwise

import pytest

from reelflow.compose.subtitles import (
    CUE_GAP_SEC,
    LATIN_CHARS_PER_LINE,
    WIDE_CHARS_PER_LINE,
    AssStyle,
    ChapterMark,
    Cue,
    TimedNarration,
    ass_escape,
    ass_timestamp,
    chapters_txt,
    chars_per_line_for,
    cues_within,
    plan_cues,
    segment_cues,
    shift_cues,
    spread_over,
    srt_timestamp,
    to_ass,
    to_srt,
    to_vtt,
    vtt_timestamp,
    wrap_cue_text,
)

KOREAN = "피싱은 신뢰할 수 있는 기관을 사칭해 개인정보를 빼내는 사기입니다."  # 37 characters
ENGLISH = "Phishing is a scam in which someone pretends to be a trusted sender."  # 68 characters


def _scenes() -> list[TimedNarration]:
    return [
        TimedNarration(text="First scene.", start_sec=0.0, duration_sec=2.5),
        TimedNarration(text=KOREAN, start_sec=2.5, duration_sec=4.0),
        TimedNarration(text=ENGLISH, start_sec=6.5, duration_sec=3.25),
    ]


def test_one_cue_per_scene_inside_its_scene() -> None:
    scenes = _scenes()
    cues = plan_cues(scenes)

    assert len(cues) == len(scenes)
    for cue, scene in zip(cues, scenes, strict=True):
        scene_end = scene.start_sec + scene.duration_sec
        assert cue.start_sec == pytest.approx(scene.start_sec)
        assert cue.end_sec == pytest.approx(scene_end - CUE_GAP_SEC)
        assert scene.start_sec <= cue.start_sec < cue.end_sec <= scene_end
    for earlier, later in pairwise(cues):
        assert earlier.end_sec < later.start_sec


def test_a_very_short_scene_still_gets_a_cue_inside_it() -> None:
    [cue] = plan_cues([TimedNarration(text="Hi.", start_sec=1.0, duration_sec=0.04)])

    assert 1.0 <= cue.start_sec < cue.end_sec <= 1.04


def test_cue_text_keeps_every_word() -> None:
    for cue, scene in zip(plan_cues(_scenes()), _scenes(), strict=True):
        assert cue.text.split() == scene.text.split()
        assert len(cue.text.splitlines()) <= 2


def test_korean_wraps_to_two_lines_of_about_twenty_characters() -> None:
    lines = wrap_cue_text(KOREAN, chars_per_line_for(KOREAN))

    assert len(lines) == 2
    assert all(len(line) <= WIDE_CHARS_PER_LINE for line in lines)
    assert " ".join(lines).split() == KOREAN.split()


def test_english_wraps_at_forty_two_characters_without_splitting_words() -> None:
    lines = wrap_cue_text(ENGLISH, chars_per_line_for(ENGLISH))

    assert chars_per_line_for(ENGLISH) == LATIN_CHARS_PER_LINE
    assert len(lines) == 2
    assert all(len(line) <= LATIN_CHARS_PER_LINE for line in lines)
    assert " ".join(lines).split() == ENGLISH.split()


def test_short_text_stays_on_one_line() -> None:
    assert wrap_cue_text("Check the sender.", 42) == ["Check the sender."]


@pytest.mark.parametrize(
    "long_text",
    [" ".join(["word"] * 40), " ".join([KOREAN] * 4)],  # ~200 and ~150 characters: far beyond two lines
    ids=["english", "korean"],
)
def test_text_too_long_for_two_lines_widens_instead_of_dropping_words(long_text: str) -> None:
    lines = wrap_cue_text(long_text, chars_per_line_for(long_text))

    assert len(lines) == 2
    assert " ".join(lines).split() == long_text.split()
    assert abs(len(lines[0]) - len(lines[1])) <= max(len(word) + 1 for word in long_text.split())


def test_an_overlong_word_is_never_split() -> None:
    word = "Supercalifragilisticexpialidocious-and-then-some-more-text"
    assert wrap_cue_text(word, 20) == [word]


def test_script_detection_picks_the_line_width() -> None:
    assert chars_per_line_for(KOREAN) == WIDE_CHARS_PER_LINE
    assert chars_per_line_for("Use MFA 항상") == LATIN_CHARS_PER_LINE
    assert chars_per_line_for("2024") == LATIN_CHARS_PER_LINE


def test_spread_over_shares_time_in_proportion_to_text_length() -> None:
    cues = spread_over(["aaaaaa", "aaa"], 10.0, 13.0)

    assert [(c.start_sec, c.end_sec) for c in cues] == [pytest.approx((10.0, 12.0)), pytest.approx((12.0, 13.0))]


def test_srt_exact() -> None:
    cues = [Cue(0.0, 1.5, "Hello"), Cue(1.55, 3723.0456, "Two\nlines")]

    assert to_srt(cues) == ("1\n00:00:00,000 --> 00:00:01,500\nHello\n\n2\n00:00:01,550 --> 01:02:03,046\nTwo\nlines\n")


def test_vtt_exact_and_escaped() -> None:
    cues = [Cue(0.0, 1.5, "A <b> & C"), Cue(2.0, 62.25, "x --> y")]

    assert to_vtt(cues) == (
        "WEBVTT\n\n"
        "1\n00:00:00.000 --> 00:00:01.500\nA &lt;b&gt; &amp; C\n\n"
        "2\n00:00:02.000 --> 00:01:02.250\nx --&gt; y\n"
    )


def test_timestamps() -> None:
    assert srt_timestamp(3661.2346) == "01:01:01,235"
    assert vtt_timestamp(59.9996) == "00:01:00.000"
    assert ass_timestamp(3723.456) == "1:02:03.46"
    assert srt_timestamp(-0.2) == "00:00:00,000"


def test_ass_document_has_frame_play_res_and_a_scaled_outline() -> None:
    document = to_ass([Cue(0.5, 2.0, "{bold}\nC:\\new")], (1080, 1920), "NanumGothic")
    style = AssStyle.for_frame((1080, 1920))

    assert "PlayResX: 1080\nPlayResY: 1920\n" in document
    style_line = next(line for line in document.splitlines() if line.startswith("Style: Default,"))
    fields = style_line.removeprefix("Style: ").split(",")
    assert fields[1] == "NanumGothic"
    assert fields[3] == "&H00FFFFFF"  # white text
    assert fields[5] == "&H00000000"  # black outline
    assert int(fields[16]) == style.outline == round(3 * 1920 / 720)
    assert fields[18] == "2"  # bottom centre
    assert int(fields[21]) >= round(1920 * 0.05)  # inside the title-safe area
    assert document.rstrip("\n").splitlines()[-1] == (
        "Dialogue: 0,0:00:00.50,0:00:02.00,Default,,0,0,0,,\\{bold\\}\\NC:\\\u2060new"
    )


def test_ass_outline_is_three_pixels_at_720p() -> None:
    assert AssStyle.for_frame((1280, 720)).outline == 3


def test_ass_escape_never_leaves_an_override_block() -> None:
    escaped = ass_escape("{\\an8}moved?")

    assert "{\\an8}" not in escaped
    assert escaped.startswith("\\{")


def test_segment_cues_are_clipped_and_relative_to_the_segment() -> None:
    cues = [Cue(0.0, 2.95, "one"), Cue(3.0, 5.95, "two"), Cue(6.0, 8.0, "three")]

    assert cues_within(cues, 3.0, 6.0) == [Cue(3.0, 5.95, "two")]
    [own] = segment_cues(cues, 3.0, 6.0)
    assert (own.start_sec, own.text) == (0.0, "two")
    assert own.end_sec == pytest.approx(2.95)
    assert cues_within([Cue(1.0, 5.0, "long")], 2.0, 3.0) == [Cue(2.0, 3.0, "long")]
    assert shift_cues([Cue(1.0, 2.0, "x")], 0.5) == [Cue(1.5, 2.5, "x")]


def test_chapters_txt_youtube_format() -> None:
    text = chapters_txt(
        [
            ChapterMark("Intro", 0.4),
            ChapterMark("피싱이란  무엇인가", 75.9),
            ChapterMark("Wrap\nup", 3725.0),
        ]
    )

    assert text == "00:00 Intro\n01:15 피싱이란 무엇인가\n1:02:05 Wrap up\n"


def test_chapters_txt_first_chapter_starts_at_zero() -> None:
    assert chapters_txt([ChapterMark("Late start", 3.2)]).startswith("00:00 Late start")
