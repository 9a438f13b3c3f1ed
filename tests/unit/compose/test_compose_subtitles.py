"""Subtitle cue planning and timing, the ASS style, and the SRT / WebVTT / ASS / chapter renderings."""

import re
import shutil
import subprocess
from itertools import pairwise
from pathlib import Path

import pytest
from PIL import Image

from reelflow.compose.fonts import FontSet, subtitle_font_set
from reelflow.compose.line_breaking import display_columns
from reelflow.compose.subtitles import (
    CUE_GAP_SEC,
    MIN_CUE_SEC,
    READABLE_LINE_COLUMNS,
    AssStyle,
    ChapterMark,
    Cue,
    TimedNarration,
    ass_escape,
    ass_timestamp,
    chapters_txt,
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
)
from reelflow.contracts import SubtitleStyle

SIZES = [(1280, 720), (1920, 1080), (1080, 1920), (1080, 1080)]
KOREAN = "피싱은 신뢰할 수 있는 기관을 사칭해 개인정보를 빼내는 사기입니다."
ENGLISH = "Phishing is a scam in which someone pretends to be a trusted sender."
# About 40 seconds when read aloud.
LONG_ENGLISH = (
    "Phishing is a scam in which someone pretends to be a trusted sender, such as your bank, a delivery company "
    "or your own IT department. The message usually sounds urgent: your account will be locked, a parcel is "
    "waiting, or a payment has failed. It asks you to click a link, open an attachment or type your password "
    "into a page that looks real. Before you act, stop and check the sender's address carefully. If in doubt, "
    "contact the organisation through a channel you already trust, not the one in the message."
)
LONG_KOREAN = (
    "피싱은 신뢰할 수 있는 기관을 사칭해 개인정보를 빼내는 사기입니다. 공격자는 은행이나 택배 회사, 회사의 IT 부서처럼 "
    "보이는 메일을 보내고, 계정이 곧 잠긴다거나 결제가 실패했다며 긴급한 어조로 링크 클릭을 유도합니다. 링크를 누르면 "
    "진짜와 똑같아 보이는 로그인 화면이 나타나고, 그곳에 입력한 비밀번호는 그대로 공격자에게 전달됩니다. 의심스러운 "
    "메일을 받았다면 링크를 누르지 말고, 이미 알고 있는 공식 연락처로 직접 확인하세요."
)


def _size_id(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def _scenes() -> list[TimedNarration]:
    return [
        TimedNarration(text="First scene.", start_sec=0.0, duration_sec=2.5),
        TimedNarration(text=KOREAN, start_sec=2.5, duration_sec=4.0),
        TimedNarration(text=ENGLISH, start_sec=6.5, duration_sec=3.25),
    ]


def _flat(text: str) -> str:
    return text.replace("\n", " ")


def _assert_well_formed(cues: list[Cue], scene: TimedNarration, columns: int) -> None:
    """Inside the scene window, ordered, not overlapping, every word kept, two fitting lines per cue."""
    scene_end = scene.start_sec + scene.duration_sec
    assert cues[0].start_sec == pytest.approx(scene.start_sec)
    assert cues[-1].end_sec == pytest.approx(scene_end - CUE_GAP_SEC)
    for cue in cues:
        assert scene.start_sec <= cue.start_sec < cue.end_sec <= scene_end - CUE_GAP_SEC + 1e-9
        lines = cue.text.split("\n")
        assert 1 <= len(lines) <= 2
        assert all(display_columns(line) <= columns for line in lines)
    for earlier, later in pairwise(cues):
        assert earlier.end_sec <= later.start_sec
    assert " ".join(cue.text for cue in cues).split() == scene.text.split()


# ---- planning --------------------------------------------------------------------------------------


def test_short_narration_gets_one_cue_spanning_its_scene() -> None:
    scenes = _scenes()
    cues = plan_cues(scenes)

    assert len(cues) == len(scenes)
    for cue, scene in zip(cues, scenes, strict=True):
        _assert_well_formed([cue], scene, READABLE_LINE_COLUMNS)
    for earlier, later in pairwise(cues):
        assert earlier.end_sec < later.start_sec  # the gap between scenes


def test_a_very_short_scene_still_gets_a_cue_inside_it() -> None:
    [cue] = plan_cues([TimedNarration(text="Hi.", start_sec=1.0, duration_sec=0.04)])

    assert 1.0 <= cue.start_sec < cue.end_sec <= 1.04


@pytest.mark.parametrize(
    ("text", "duration"), [(LONG_ENGLISH, 40.0), (LONG_KOREAN, 30.0)], ids=["english-40s", "korean-30s"]
)
def test_long_narration_is_split_into_several_proportional_cues_inside_its_scene(text: str, duration: float) -> None:
    scene = TimedNarration(text=text, start_sec=12.0, duration_sec=duration)

    cues = plan_cues([scene])

    assert len(cues) >= 5
    _assert_well_formed(cues, scene, READABLE_LINE_COLUMNS)
    assert all(cue.end_sec - cue.start_sec >= MIN_CUE_SEC for cue in cues)
    window = duration - CUE_GAP_SEC
    total_columns = sum(display_columns(_flat(cue.text)) for cue in cues)
    for cue in cues:
        share_of_time = (cue.end_sec - cue.start_sec) / window
        assert share_of_time == pytest.approx(display_columns(_flat(cue.text)) / total_columns)


def test_long_narration_cues_end_mostly_at_sentence_or_clause_punctuation() -> None:
    cues = plan_cues([TimedNarration(text=LONG_ENGLISH, start_sec=0.0, duration_sec=40.0)])

    at_punctuation = [cue for cue in cues if cue.text.rstrip()[-1] in ".,:;"]
    assert len(at_punctuation) >= len(cues) - 2


def test_vertical_video_gets_shorter_lines_and_more_cues() -> None:
    scene = TimedNarration(text=LONG_KOREAN, start_sec=0.0, duration_sec=30.0)
    vertical_columns = AssStyle.for_frame((1080, 1920)).line_columns

    landscape = plan_cues([scene], frame_size=(1920, 1080))
    vertical = plan_cues([scene], frame_size=(1080, 1920))

    assert vertical_columns < READABLE_LINE_COLUMNS
    _assert_well_formed(vertical, scene, vertical_columns)
    assert max(display_columns(line) for cue in vertical for line in cue.text.split("\n")) <= vertical_columns
    assert len(vertical) > len(landscape)


def test_no_frame_size_means_1280x720() -> None:
    scenes = [TimedNarration(text=LONG_ENGLISH, start_sec=0.0, duration_sec=40.0)]

    assert plan_cues(scenes) == plan_cues(scenes, frame_size=(1280, 720))


def test_chars_per_line_overrides_the_frame_budget() -> None:
    scene = TimedNarration(text=LONG_ENGLISH, start_sec=0.0, duration_sec=40.0)

    narrow = plan_cues([scene], chars_per_line=24)

    _assert_well_formed(narrow, scene, 24)


def test_a_multi_scene_timeline_keeps_every_cue_inside_its_own_scene() -> None:
    scenes = [
        TimedNarration(text="Welcome.", start_sec=0.0, duration_sec=1.5),
        TimedNarration(text=LONG_KOREAN, start_sec=1.5, duration_sec=28.0),
        TimedNarration(text="Hi.", start_sec=29.5, duration_sec=0.6),  # shorter than a readable cue
        TimedNarration(text="   ", start_sec=30.1, duration_sec=2.0),  # nothing to show
        TimedNarration(text=LONG_ENGLISH, start_sec=32.1, duration_sec=38.5),
    ]

    cues = plan_cues(scenes)

    by_scene = [
        [cue for cue in cues if scene.start_sec <= cue.start_sec < scene.start_sec + scene.duration_sec]
        for scene in scenes
    ]
    assert sum(map(len, by_scene)) == len(cues)
    assert [len(own) >= 5 for own in by_scene] == [False, True, False, False, True]
    assert [len(own) for own in by_scene][::2] == [1, 1, len(by_scene[4])]
    assert by_scene[3] == []
    for scene, own in zip(scenes, by_scene, strict=True):
        if own:
            _assert_well_formed(own, scene, READABLE_LINE_COLUMNS)
    assert all(cue.end_sec - cue.start_sec >= MIN_CUE_SEC for cue in by_scene[1] + by_scene[4])
    for earlier, later in pairwise(cues):
        assert earlier.end_sec <= later.start_sec


def test_spread_over_shares_time_in_proportion_to_columns() -> None:
    latin = spread_over(["aaaaaa", "aaa"], 10.0, 13.0)
    mixed = spread_over(["가나다", "abc"], 0.0, 3.0)  # 6 columns against 3

    assert [(c.start_sec, c.end_sec) for c in latin] == [pytest.approx((10.0, 12.0)), pytest.approx((12.0, 13.0))]
    assert [(c.start_sec, c.end_sec) for c in mixed] == [pytest.approx((0.0, 2.0)), pytest.approx((2.0, 3.0))]
    assert latin[-1].end_sec == 13.0  # exactly, so the last cue never overruns its window


# ---- style --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_style_keeps_two_lines_inside_title_safe_and_the_subtitle_band(size: tuple[int, int]) -> None:
    width, height = size
    style = AssStyle.for_frame(size)

    assert style.margin_h >= 0.05 * width
    assert style.margin_v >= 0.05 * height
    # Two lines of text plus the outline stay in the bottom 22% that slides keep free.
    assert style.margin_v + 2 * style.font_size + 2 * style.outline <= 0.22 * height
    # A full line measured 0.41 x font size per column in libass: it fits between the margins.
    assert style.line_columns * 0.41 * style.font_size <= width - 2 * style.margin_h
    assert 0.035 * min(size) <= style.font_size <= 0.06 * min(size)
    assert style.outline >= 2 and style.shadow >= 1


def test_style_outline_is_three_pixels_at_720p_and_portrait_lines_are_shorter() -> None:
    assert AssStyle.for_frame((1280, 720)).outline == 3
    assert AssStyle.for_frame((1280, 720)).line_columns == READABLE_LINE_COLUMNS
    assert AssStyle.for_frame((1920, 1080)).line_columns == READABLE_LINE_COLUMNS
    assert AssStyle.for_frame((1080, 1920)).line_columns <= 32
    assert AssStyle.for_frame((1080, 1920)).margin_v > AssStyle.for_frame((1920, 1080)).margin_v


def test_ass_document_has_frame_play_res_no_auto_wrap_and_the_style() -> None:
    document = to_ass([Cue(0.5, 2.0, "{bold}\nC:\\new")], (1080, 1920), "NanumGothic")
    style = AssStyle.for_frame((1080, 1920))

    assert "PlayResX: 1080\nPlayResY: 1920\n" in document
    assert "\nWrapStyle: 2\n" in document  # libass must not re-wrap the lines planned for the sidecars
    style_line = next(line for line in document.splitlines() if line.startswith("Style: Default,"))
    fields = style_line.removeprefix("Style: ").split(",")
    assert fields[1] == "NanumGothic"
    assert int(fields[2]) == style.font_size
    assert fields[3] == "&H00FFFFFF"  # white text
    assert fields[5] == "&H00000000"  # black outline
    assert fields[6] == "&H80000000"  # half-transparent black shadow
    assert fields[15] == "1"  # outline and shadow, not an opaque box
    assert (int(fields[16]), int(fields[17])) == (style.outline, style.shadow)
    assert fields[18] == "2"  # bottom centre
    assert (int(fields[19]), int(fields[20]), int(fields[21])) == (style.margin_h, style.margin_h, style.margin_v)
    assert document.rstrip("\n").splitlines()[-1] == (
        "Dialogue: 0,0:00:00.50,0:00:02.00,Default,,0,0,0,,\\{bold\\}\\NC:\\\u2060new"
    )


def _burned_frame(document: str, size: tuple[int, int], fonts_dir: Path, frame: Path) -> Path:
    """``document`` (ASS) burned by libass into one black frame of ``size``, written to ``frame``."""
    width, height = size
    ass = frame.with_suffix(".ass")
    ass.write_text(document, encoding="utf-8")
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=black:s={width}x{height}:d=0.5",
            "-vf", f"subtitles=filename={ass}:fontsdir={fonts_dir}", "-frames:v", "1", str(frame),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return frame


def _bright_box(image_path: Path) -> tuple[int, int, int, int] | None:
    with Image.open(image_path) as frame:
        return frame.convert("L").point(lambda value: 255 if value > 60 else 0).getbbox()


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_libass_draws_a_full_budget_cue_inside_title_safe_and_the_band(
    size: tuple[int, int], fonts: FontSet, tmp_path: Path
) -> None:
    assert shutil.which("ffmpeg"), "apt-get install ffmpeg"
    width, height = size
    columns = AssStyle.for_frame(size).line_columns
    korean_line = "피싱메일주의" * (columns // 12) + "가" * (columns % 12 // 2)  # exactly the budget
    english_line = ("Check The Sender " * 6)[:columns].strip()  # capitals are wider than the average
    [cue] = plan_cues(
        [TimedNarration(text=f"{korean_line} {english_line}", start_sec=0.0, duration_sec=1.0)], frame_size=size
    )
    assert cue.text.split("\n") == [korean_line, english_line]
    frame = _burned_frame(to_ass([cue], size, fonts.family), size, fonts.fonts_dir, tmp_path / "frame.png")

    box = _bright_box(frame)
    assert box is not None
    left, top, right, bottom = box
    assert left >= 0.05 * width and right <= 0.95 * width  # title-safe at the sides
    assert top >= 0.78 * height  # inside the band slides leave free
    assert bottom <= 0.95 * height  # above the bottom title-safe edge


def test_a_jobs_subtitle_style_sets_size_colours_box_and_position() -> None:
    default = AssStyle.for_frame((1280, 720))
    big = AssStyle.for_frame((1280, 720), SubtitleStyle(size=1.5, colour="#FFD400", outline_colour="#102030"))
    assert abs(big.font_size - default.font_size * 1.5) <= 1 and big.line_columns < default.line_columns
    assert (big.primary_colour, big.outline_colour) == ("&H0000D4FF", "&H00302010")  # &HAABBGGRR
    assert big.outline > default.outline and big.border_style == 1 and big.alignment == 2
    assert AssStyle.for_frame((1280, 720), SubtitleStyle(outline=0)).outline == 0
    boxed = AssStyle.for_frame((1280, 720), SubtitleStyle(box=True, box_colour="#000080", box_opacity=0.75))
    assert (boxed.border_style, boxed.outline_colour, boxed.shadow) == (3, "&H40800000", 0)
    top = AssStyle.for_frame((1280, 720), SubtitleStyle(position="top"))
    assert top.alignment == 8 and top.margin_v == round(720 * 0.07)
    fields = to_ass([], (1280, 720), "NanumMyeongjo", style=boxed).split("Style: Default,")[1].split(",")
    assert (fields[0], fields[2], fields[4], fields[14], fields[17]) == (
        "NanumMyeongjo", "&H00FFFFFF", "&H40800000", "3", "2"
    )  # fmt: skip


def test_libass_burns_a_styled_cue_in_its_font_box_and_place(fonts: FontSet, tmp_path: Path) -> None:
    """Yellow text in a blue box at the top, in Nanum Myeongjo: drawn where and how the style says."""
    width, height = 1280, 720
    look = SubtitleStyle(font="myeongjo", colour="#FFD400", box=True, box_colour="#0000C0", box_opacity=1.0)
    look = look.model_copy(update={"position": "top"})
    subtitle_fonts = subtitle_font_set(look.font, fonts)
    assert subtitle_fonts.family == "NanumMyeongjo"
    [cue] = plan_cues([TimedNarration(text="안전모를 쓰세요 Wear a helmet", start_sec=0.0, duration_sec=1.0)])
    style = AssStyle.for_frame((width, height), look)
    document = to_ass([cue], (width, height), subtitle_fonts.family, style=style)
    frame = _burned_frame(document, (width, height), subtitle_fonts.fonts_dir, tmp_path / "styled.png")
    with Image.open(frame) as image:
        rgb = image.convert("RGB")
        pixels = [rgb.getpixel((x, y)) for x in range(0, width, 4) for y in range(0, height, 4)]
    blue = [p for p in pixels if isinstance(p, tuple) and p[2] > 150 and p[0] < 60 and p[1] < 60]
    yellow = [p for p in pixels if isinstance(p, tuple) and p[0] > 200 and p[1] > 160 and p[2] < 90]
    assert blue and yellow, "no blue box or no yellow text"
    with Image.open(frame) as image:
        box = image.convert("L").point(lambda value: 255 if value > 20 else 0).getbbox()
    assert box is not None and box[1] >= 0.05 * height and box[3] <= 0.3 * height, box  # at the top, title-safe


# ---- sidecars agree with the burned text ------------------------------------------------------------------

_TIME = r"(\d+):(\d\d):(\d\d)[,.](\d+)"


def _seconds(hours: str, minutes: str, secs: str, fraction: str) -> float:
    return int(hours) * 3600 + int(minutes) * 60 + int(secs) + int(fraction) / 10.0 ** len(fraction)


def _parse_srt_or_vtt(document: str) -> list[tuple[float, float, str]]:
    parsed = []
    for block in document.strip().split("\n\n"):
        lines = block.split("\n")
        timing = next((index for index, line in enumerate(lines) if " --> " in line), None)
        if timing is None:
            continue  # the WEBVTT header
        match = re.fullmatch(f"{_TIME} --> {_TIME}", lines[timing])
        assert match is not None
        groups = match.groups()
        text = "\n".join(lines[timing + 1 :]).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        parsed.append((_seconds(*groups[:4]), _seconds(*groups[4:]), text))
    return parsed


def _parse_ass(document: str) -> list[tuple[float, float, str]]:
    parsed = []
    for line in document.splitlines():
        if not line.startswith("Dialogue: "):
            continue
        _, start, end, *_, text = line.removeprefix("Dialogue: ").split(",", 9)
        start_h, start_m, start_s = start.split(":")
        end_h, end_m, end_s = end.split(":")
        text = text.replace("\\N", "\n").replace("\\{", "{").replace("\\}", "}").replace("\\\u2060", "\\")
        parsed.append(
            (
                int(start_h) * 3600 + int(start_m) * 60 + float(start_s),
                int(end_h) * 3600 + int(end_m) * 60 + float(end_s),
                text,
            )
        )
    return parsed


def test_srt_vtt_and_burned_ass_show_the_same_lines_at_the_same_times() -> None:
    scenes = [
        TimedNarration(text=LONG_KOREAN, start_sec=0.0, duration_sec=30.0),
        TimedNarration(text="Use <MFA> & check {braces} in C:\\new paths.", start_sec=30.0, duration_sec=3.0),
        TimedNarration(text=LONG_ENGLISH, start_sec=33.0, duration_sec=40.0),
    ]
    cues = plan_cues(scenes, frame_size=(1080, 1920))

    srt = _parse_srt_or_vtt(to_srt(cues))
    vtt = _parse_srt_or_vtt(to_vtt(cues))
    ass = _parse_ass(to_ass(cues, (1080, 1920), "NanumGothic"))

    expected_texts = [cue.text for cue in cues]
    assert len(cues) > len(scenes)
    assert [text for _, _, text in srt] == expected_texts
    assert [text for _, _, text in vtt] == expected_texts
    assert [text for _, _, text in ass] == expected_texts
    for cue, srt_cue, vtt_cue, ass_cue in zip(cues, srt, vtt, ass, strict=True):
        assert srt_cue[:2] == vtt_cue[:2]
        assert srt_cue[0] == pytest.approx(cue.start_sec, abs=0.0005)
        assert srt_cue[1] == pytest.approx(cue.end_sec, abs=0.0005)
        assert ass_cue[0] == pytest.approx(cue.start_sec, abs=0.005)  # ASS counts centiseconds
        assert ass_cue[1] == pytest.approx(cue.end_sec, abs=0.005)


# ---- formats -----------------------------------------------------------------------------------------------


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


# ---- chapters -------------------------------------------------------------------------------------------


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


def test_a_chapter_under_ten_seconds_joins_the_line_before_it() -> None:
    text = chapters_txt(
        [
            ChapterMark("Intro", 0.0),
            ChapterMark("Quick aside", 6.0),  # only 6 s after the intro
            ChapterMark("Basics", 12.0),
            ChapterMark("Same second", 12.4),  # not later than the line before it
            ChapterMark("Out of order", 5.0),
            ChapterMark("Details", 21.9),  # 9.9 s, printed 9 s after 00:12
            ChapterMark("Summary", 22.0),
        ]
    )

    assert text == "00:00 Intro · Quick aside\n00:12 Basics · Same second · Out of order · Details\n00:22 Summary\n"


def test_a_last_chapter_under_ten_seconds_before_the_end_joins_the_line_before_it() -> None:
    chapters = [ChapterMark("Intro", 0.0), ChapterMark("Main", 30.0), ChapterMark("Bye", 55.0)]

    assert chapters_txt(chapters, total_sec=64.9) == "00:00 Intro\n00:30 Main · Bye\n"
    assert chapters_txt(chapters, total_sec=65.0) == "00:00 Intro\n00:30 Main\n00:55 Bye\n"


def test_chapter_lines_are_single_line_with_strictly_increasing_starts_ten_seconds_apart() -> None:
    marks = [ChapterMark(f"Part\n{index}\t{'긴 제목 ' * (index % 3)}", index * 4.3) for index in range(40)]

    lines = chapters_txt(marks, total_sec=40 * 4.3).splitlines()

    starts = []
    for line in lines:
        stamp, _, title = line.partition(" ")
        assert title and title == " ".join(title.split())
        minutes, secs = stamp.split(":")
        starts.append(int(minutes) * 60 + int(secs))
    assert starts[0] == 0
    assert all(later - earlier >= 10 for earlier, later in pairwise(starts))
    assert " ".join(lines).count("Part") == 40  # every chapter's title is still listed
