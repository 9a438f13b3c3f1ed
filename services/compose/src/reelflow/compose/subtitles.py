"""Subtitle cues timed from measured narration, and their SRT, WebVTT, ASS and YouTube-chapter renderings."""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

# A cue ends this much before the next scene starts so players never show two scenes' text at once.
CUE_GAP_SEC = 0.05
LATIN_CHARS_PER_LINE = 42
WIDE_CHARS_PER_LINE = 20  # Hangul/CJK glyphs are about twice as wide as Latin ones
MAX_LINES = 2

_WIDE_SCRIPT = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Cue:
    """One subtitle on screen; ``text`` holds at most :data:`MAX_LINES` lines separated by ``\\n``."""

    start_sec: float
    end_sec: float
    text: str


@dataclass(frozen=True)
class TimedNarration:
    """A scene's narration and where the scene sits on the final timeline (from measured audio)."""

    text: str
    start_sec: float
    duration_sec: float


@dataclass(frozen=True)
class ChapterMark:
    title: str
    start_sec: float


def chars_per_line_for(text: str) -> int:
    """~20 characters per line when the text is mostly Hangul/CJK, ~42 otherwise."""
    letters = _LETTER.findall(text)
    if not letters:
        return LATIN_CHARS_PER_LINE
    wide = sum(1 for letter in letters if _WIDE_SCRIPT.match(letter))
    return WIDE_CHARS_PER_LINE if wide * 2 >= len(letters) else LATIN_CHARS_PER_LINE


def wrap_cue_text(text: str, chars_per_line: int) -> list[str]:
    """Break ``text`` into at most two lines, only at spaces, without dropping a word.

    Text that fits goes on one line. Otherwise the split point that makes the longer line shortest is
    chosen: for text of up to two lines' worth this balances the lines, and for longer text it widens
    the lines just as much as needed instead of adding a third line or cutting words.
    """
    words = text.split()
    one_line = " ".join(words)
    if len(one_line) <= chars_per_line or len(words) < 2:
        return [one_line] if one_line else []
    split = min(
        range(1, len(words)),
        key=lambda index: max(len(" ".join(words[:index])), len(" ".join(words[index:]))),
    )
    return [" ".join(words[:split]), " ".join(words[split:])]


def spread_over(chunks: Sequence[str], start_sec: float, end_sec: float) -> list[Cue]:
    """Give each chunk a share of ``[start_sec, end_sec]`` in proportion to its length, in order.

    With one chunk this is the whole span; it is the seam for splitting long narration into several cues.
    """
    weights = [max(1, len(chunk.replace("\n", ""))) for chunk in chunks]
    total = sum(weights)
    cues: list[Cue] = []
    elapsed = 0
    for chunk, weight in zip(chunks, weights, strict=True):
        cue_start = start_sec + (end_sec - start_sec) * elapsed / total
        elapsed += weight
        cue_end = start_sec + (end_sec - start_sec) * elapsed / total
        cues.append(Cue(start_sec=cue_start, end_sec=cue_end, text=chunk))
    return cues


def plan_cues(
    scenes: Sequence[TimedNarration],
    *,
    chars_per_line: int | None = None,
    gap_sec: float = CUE_GAP_SEC,
) -> list[Cue]:
    """One cue per scene, spanning the scene and ending ``gap_sec`` early; text wrapped to two lines.

    ``chars_per_line`` defaults to a per-scene guess from the script the narration is written in.
    """
    cues: list[Cue] = []
    for scene in scenes:
        if scene.duration_sec <= 0 or not scene.text.strip():
            continue
        width = chars_per_line or chars_per_line_for(scene.text)
        scene_end = scene.start_sec + scene.duration_sec
        cue_end = scene_end - min(gap_sec, scene.duration_sec / 2)
        chunks = ["\n".join(wrap_cue_text(scene.text, width))]
        cues.extend(spread_over(chunks, scene.start_sec, cue_end))
    return cues


def shift_cues(cues: Sequence[Cue], offset_sec: float) -> list[Cue]:
    return [replace(cue, start_sec=cue.start_sec + offset_sec, end_sec=cue.end_sec + offset_sec) for cue in cues]


def cues_within(cues: Sequence[Cue], start_sec: float, end_sec: float) -> list[Cue]:
    """The cues overlapping ``[start_sec, end_sec)``, clipped to it (absolute times kept)."""
    selected: list[Cue] = []
    for cue in cues:
        clipped_start = max(cue.start_sec, start_sec)
        clipped_end = min(cue.end_sec, end_sec)
        if clipped_end > clipped_start:
            selected.append(Cue(start_sec=clipped_start, end_sec=clipped_end, text=cue.text))
    return selected


def segment_cues(cues: Sequence[Cue], start_sec: float, end_sec: float) -> list[Cue]:
    """The cues of one segment, timed from the segment's own start (what a per-segment burn needs)."""
    return shift_cues(cues_within(cues, start_sec, end_sec), -start_sec)


def _milliseconds(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _clock(seconds: float, separator: str) -> str:
    hours, rest = divmod(_milliseconds(seconds), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def srt_timestamp(seconds: float) -> str:
    return _clock(seconds, ",")


def vtt_timestamp(seconds: float) -> str:
    return _clock(seconds, ".")


def ass_timestamp(seconds: float) -> str:
    """``H:MM:SS.cc``: ASS counts centiseconds."""
    centis = max(0, round(seconds * 100))
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6000)
    secs, cs = divmod(rest, 100)
    return f"{hours:d}:{minutes:02d}:{secs:02d}.{cs:02d}"


def to_srt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{index}\n{srt_timestamp(cue.start_sec)} --> {srt_timestamp(cue.end_sec)}\n{_plain_lines(cue.text)}\n"
        for index, cue in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def to_vtt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{index}\n{vtt_timestamp(cue.start_sec)} --> {vtt_timestamp(cue.end_sec)}\n{_vtt_escape(cue.text)}\n"
        for index, cue in enumerate(cues, start=1)
    ]
    return "\n".join(["WEBVTT\n", *blocks])


def _plain_lines(text: str) -> str:
    # A blank line would end the cue early in SRT and WebVTT.
    return "\n".join(line for line in text.splitlines() if line.strip())


def _vtt_escape(text: str) -> str:
    return _plain_lines(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


@dataclass(frozen=True)
class AssStyle:
    """How burned subtitles look, in pixels of the frame they are burned into."""

    font_size: int
    outline: int
    shadow: int
    margin_h: int
    margin_v: int

    @classmethod
    def for_frame(cls, size: tuple[int, int]) -> "AssStyle":
        """Sized from the frame: ~40 px text with a 3 px outline at 720p, narrower frames get smaller text
        so ~20 Hangul characters still fit in a line, and margins stay inside the title-safe area."""
        width, height = size
        return cls(
            font_size=max(12, round(min(height * 0.055, width * 0.042))),
            outline=max(1, round(3 * height / 720)),
            shadow=max(0, round(height / 720)),
            margin_h=round(width * 0.08),
            margin_v=round(height * 0.06),
        )


def ass_escape(text: str) -> str:
    """Cue text as an ASS Dialogue ``Text`` field: line breaks as ``\\N``, braces and backslashes inert."""
    # A word joiner after a backslash stops user text such as "C:\new" from becoming an override code.
    escaped = text.replace("\\", "\\\u2060").replace("{", "\\{").replace("}", "\\}")
    return "\\N".join(line for line in escaped.splitlines() if line.strip())


def to_ass(
    cues: Sequence[Cue],
    size: tuple[int, int],
    font_family: str,
    *,
    style: AssStyle | None = None,
    bold: bool = True,
) -> str:
    """A complete ASS document: white text with a black outline, bottom centre, PlayRes = frame size."""
    width, height = size
    look = style or AssStyle.for_frame(size)
    header = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",  # libass may still wrap a line that is wider than the frame; it never clips one
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: TV.709",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
        "MarginL, MarginR, MarginV, Encoding",
        f"Style: Default,{font_family},{look.font_size},&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,"
        f"{-1 if bold else 0},0,0,0,100,100,0,0,1,{look.outline},{look.shadow},2,"
        f"{look.margin_h},{look.margin_h},{look.margin_v},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events = [
        f"Dialogue: 0,{ass_timestamp(cue.start_sec)},{ass_timestamp(cue.end_sec)},Default,,0,0,0,,"
        f"{ass_escape(cue.text)}"
        for cue in cues
    ]
    return "\n".join([*header, *events]) + "\n"


def youtube_timestamp(seconds: float) -> str:
    """``MM:SS``, or ``H:MM:SS`` from one hour on; rounded down so a chapter link never skips its start."""
    whole = max(0, math.floor(seconds + 1e-6))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def chapters_txt(chapters: Sequence[ChapterMark]) -> str:
    """YouTube description chapter lines; the first one always starts at ``00:00`` as YouTube requires."""
    lines = []
    for index, chapter in enumerate(chapters):
        start = 0.0 if index == 0 else chapter.start_sec
        title = " ".join(chapter.title.split())
        lines.append(f"{youtube_timestamp(start)} {title}")
    return "\n".join(lines) + ("\n" if lines else "")
