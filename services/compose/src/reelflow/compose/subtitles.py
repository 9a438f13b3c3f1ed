"""Subtitle cues timed from measured narration, and their SRT, WebVTT, ASS and YouTube-chapter renderings."""

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from reelflow.compose.cue_chunking import chunk_narration
from reelflow.compose.line_breaking import MAX_LINES as MAX_LINES
from reelflow.compose.line_breaking import display_columns
from reelflow.contracts import SubtitleStyle

# A cue ends this much before the next scene starts so players never show two scenes' text at once.
CUE_GAP_SEC = 0.05
# Shorter cues flash by before they can be read; a scene split into several cues keeps each one this long.
MIN_CUE_SEC = 1.0
DEFAULT_FRAME_SIZE = (1280, 720)

# Subtitle look, as shares of the frame. Text is sized from the frame's shorter side: 40 px at 720p, and
# 59 px at 1080p, 1080x1080 and 1080x1920. A phone held upright then shows it as large as a TV does.
SUBTITLE_FONT_SHARE = 0.055
MIN_SUBTITLE_FONT_PX = 8
OUTLINE_SHARE_OF_FONT = 0.075  # 3 px at 40 px
SHADOW_SHARE_OF_FONT = 1 / 30
SUBTITLE_MARGIN_X = 0.08  # per side; title-safe needs at least 5%
SUBTITLE_MARGIN_BOTTOM = 0.07
# Upright (9:16) players lay their own caption and buttons over the bottom of the frame.
SUBTITLE_MARGIN_BOTTOM_PORTRAIT = 0.12
SUBTITLE_MARGIN_TOP = 0.07  # subtitles placed at the top (SubtitleStyle.position): inside title-safe, box and all
BOX_PADDING_SHARE_OF_FONT = 0.2  # a box behind the text reaches this far past the glyphs
# One display column (half a Hangul glyph, about one Latin letter) per this share of the ASS font size.
# Measured in libass with NanumGothic Bold, it is 0.41 in both scripts. The rest is headroom for capitals
# and wide letters, so a line within budget stays inside the margins.
COLUMN_WIDTH_PER_FONT_SIZE = 0.5
# 42 Latin letters or 21 Hangul: a longer line is hard to read in the time a cue stays up.
READABLE_LINE_COLUMNS = 42
MIN_LINE_COLUMNS = 8

YOUTUBE_MIN_CHAPTER_SEC = 10
CHAPTER_TITLE_JOINER = " · "


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


@dataclass(frozen=True)
class AssStyle:
    """How burned subtitles look, in pixels of the frame they are burned into.

    ``line_columns`` is the line budget that cue planning wraps to. It is derived from the same font
    size and margins, so a planned line fits between the margins as drawn.
    """

    font_size: int
    outline: int
    shadow: int
    margin_h: int
    margin_v: int
    line_columns: int = READABLE_LINE_COLUMNS
    # ASS colours (&HAABBGGRR, alpha 00 = opaque): the text, its outline (or box), its shadow.
    primary_colour: str = "&H00FFFFFF"
    outline_colour: str = "&H00000000"
    back_colour: str = "&H80000000"
    border_style: int = 1  # 1: outline and shadow; 3: a box behind the text, in the outline colour
    alignment: int = 2  # numpad: 2 bottom centre, 8 top centre

    @classmethod
    def for_frame(cls, size: tuple[int, int], look: SubtitleStyle | None = None) -> "AssStyle":
        """Sized from the frame so subtitles read alike at 1280x720, 1920x1080, 1080x1920 and 1080x1080.

        The margins keep text inside the title-safe area, and two lines stay inside the bottom 22%
        of the frame that slides leave free. The line budget is what fits between the side margins
        at this font size, capped at :data:`READABLE_LINE_COLUMNS`. Upright frames therefore get
        shorter lines.
        """
        width, height = size
        look = look or SubtitleStyle()
        font_size = max(MIN_SUBTITLE_FONT_PX, round(min(width, height) * SUBTITLE_FONT_SHARE * look.size))
        margin_h = round(width * SUBTITLE_MARGIN_X)
        fitting_columns = math.floor((width - 2 * margin_h) / (font_size * COLUMN_WIDTH_PER_FONT_SIZE))
        bottom_share = SUBTITLE_MARGIN_BOTTOM_PORTRAIT if height > width else SUBTITLE_MARGIN_BOTTOM
        margin_v = round(height * (SUBTITLE_MARGIN_TOP if look.position == "top" else bottom_share))
        outline = round(font_size * OUTLINE_SHARE_OF_FONT * look.outline)
        if look.box:
            # The box is the outline drawn as a rectangle: its width is the padding around the text.
            return cls(
                font_size=font_size,
                outline=max(2, round(font_size * BOX_PADDING_SHARE_OF_FONT)),
                shadow=0,
                margin_h=margin_h,
                margin_v=margin_v,
                line_columns=max(MIN_LINE_COLUMNS, min(READABLE_LINE_COLUMNS, fitting_columns)),
                primary_colour=ass_colour(look.colour),
                outline_colour=ass_colour(look.box_colour, opacity=look.box_opacity),
                back_colour=ass_colour(look.box_colour, opacity=0.0),
                border_style=3,
                alignment=8 if look.position == "top" else 2,
            )
        return cls(
            font_size=font_size,
            outline=max(1, outline) if look.outline > 0 else 0,
            shadow=max(1, round(font_size * SHADOW_SHARE_OF_FONT)),
            margin_h=margin_h,
            margin_v=margin_v,
            line_columns=max(MIN_LINE_COLUMNS, min(READABLE_LINE_COLUMNS, fitting_columns)),
            primary_colour=ass_colour(look.colour),
            outline_colour=ass_colour(look.outline_colour),
            alignment=8 if look.position == "top" else 2,
        )


def ass_colour(hex_colour: str, *, opacity: float = 1.0) -> str:
    """``#RRGGBB`` as ASS's ``&HAABBGGRR`` (alpha 00 is opaque, FF invisible)."""
    red, green, blue = hex_colour[1:3], hex_colour[3:5], hex_colour[5:7]
    alpha = round((1.0 - opacity) * 255)
    return f"&H{alpha:02X}{blue}{green}{red}".upper()


def spread_over(chunks: Sequence[str], start_sec: float, end_sec: float) -> list[Cue]:
    """Give each chunk a share of ``[start_sec, end_sec]`` in proportion to its width in columns, in order.

    Counting columns rather than characters gives a Hangul syllable twice a Latin letter's time. That
    is close to how long each takes to say. Consecutive cues meet exactly, so they never overlap.
    """
    weights = [max(1, display_columns(chunk.replace("\n", " "))) for chunk in chunks]
    total = sum(weights)
    cues: list[Cue] = []
    elapsed = 0
    for chunk, weight in zip(chunks, weights, strict=True):
        cue_start = start_sec + (end_sec - start_sec) * elapsed / total
        elapsed += weight
        cue_end = end_sec if elapsed == total else start_sec + (end_sec - start_sec) * elapsed / total
        cues.append(Cue(start_sec=cue_start, end_sec=cue_end, text=chunk))
    return cues


def plan_cues(
    scenes: Sequence[TimedNarration],
    *,
    chars_per_line: int | None = None,
    gap_sec: float = CUE_GAP_SEC,
    frame_size: tuple[int, int] | None = None,
    min_cue_sec: float = MIN_CUE_SEC,
) -> list[Cue]:
    """Cues for each scene, inside its window (from its start to ``gap_sec`` before its end), in order.

    Each scene's narration is split into as many cues as it needs to fit two lines each, and each cue
    gets time in proportion to its text (see :func:`chunk_narration`). Lines are wrapped to
    ``chars_per_line`` display columns (a Hangul/CJK glyph counts two), which by default is what fits
    the subtitle style for ``frame_size`` (1280x720 when not given). Pass the frame size of the video
    that the cues are burned into, so the burned text and the SRT/VTT sidecars break lines alike.
    """
    columns = chars_per_line or AssStyle.for_frame(frame_size or DEFAULT_FRAME_SIZE).line_columns
    cues: list[Cue] = []
    for scene in scenes:
        if scene.duration_sec <= 0 or not scene.text.strip():
            continue
        scene_end = scene.start_sec + scene.duration_sec
        cue_end = scene_end - min(gap_sec, scene.duration_sec / 2)
        chunks = chunk_narration(
            scene.text, max_columns=columns, window_sec=cue_end - scene.start_sec, min_cue_sec=min_cue_sec
        )
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
    """A complete ASS document: bold white text, a black outline and a soft translucent shadow, bottom centre.

    PlayRes is the frame size, so every size in :class:`AssStyle` is in the frame's own pixels.
    """
    width, height = size
    look = style or AssStyle.for_frame(size)
    header = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        # 2 = libass never wraps on its own; only our \\N breaks count. plan_cues already broke the lines to
        # the style's line_columns, which fit between the margins. With libass's smart wrapping (0), the
        # burned lines could break in other places than the SRT/VTT sidecars.
        "WrapStyle: 2",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: TV.709",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
        "MarginL, MarginR, MarginV, Encoding",
        f"Style: Default,{font_family},{look.font_size},{look.primary_colour},{look.primary_colour},"
        f"{look.outline_colour},{look.back_colour},{-1 if bold else 0},0,0,0,100,100,0,0,{look.border_style},"
        f"{look.outline},{look.shadow},{look.alignment},{look.margin_h},{look.margin_h},{look.margin_v},1",
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
    hours, rest = divmod(_whole_seconds(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def chapters_txt(
    chapters: Sequence[ChapterMark],
    *,
    total_sec: float | None = None,
    min_chapter_sec: float = YOUTUBE_MIN_CHAPTER_SEC,
) -> str:
    """YouTube description chapter lines (``00:00 Title``), which YouTube turns into chapters as written.

    YouTube ignores the whole list unless the first line is ``00:00``, the starts increase and every
    chapter lasts at least 10 s. Here the first line always starts at ``00:00``, and titles are
    collapsed to one line. A chapter that starts less than ``min_chapter_sec`` after the line before
    it (compared as the whole seconds printed) adds its title to that line instead of starting a new
    one. So does a last chapter that would end less than ``min_chapter_sec`` before ``total_sec``. The
    merged titles are joined with " · ". YouTube also needs three chapters before it shows any; a
    shorter list is still written, and YouTube then shows it as plain text.
    """
    lines: list[tuple[int, list[str]]] = []
    for index, chapter in enumerate(chapters):
        start = 0 if index == 0 else _whole_seconds(chapter.start_sec)
        title = " ".join(chapter.title.split())
        if lines and start - lines[-1][0] < min_chapter_sec:
            _add_title(lines[-1][1], title)
        else:
            lines.append((start, [title] if title else []))
    if total_sec is not None and len(lines) > 1 and _whole_seconds(total_sec) - lines[-1][0] < min_chapter_sec:
        _, titles = lines.pop()
        for title in titles:
            _add_title(lines[-1][1], title)
    text = [
        f"{youtube_timestamp(start)} {CHAPTER_TITLE_JOINER.join(titles) or f'Chapter {number}'}"
        for number, (start, titles) in enumerate(lines, start=1)
    ]
    return "\n".join(text) + ("\n" if text else "")


def _whole_seconds(seconds: float) -> int:
    return max(0, math.floor(seconds + 1e-6))


def _add_title(titles: list[str], title: str) -> None:
    if title and title not in titles:
        titles.append(title)
