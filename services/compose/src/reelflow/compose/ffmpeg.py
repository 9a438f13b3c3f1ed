"""Pure builders of FFmpeg argument lists (segments, concat list, final mux) and frame-exact segment timing."""

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

AUDIO_SAMPLE_RATE = 48_000
AUDIO_BITRATE = "160k"
VIDEO_CRF = 20
X264_PRESET = "veryfast"

_FILTERGRAPH_SPECIALS = frozenset("\\'[],;")


def frame_boundaries(durations: Sequence[float], fps: int) -> list[int]:
    """Frame index at which each segment starts, plus the end: ``len(durations) + 1`` values from 0.

    The cumulative sum is rounded rather than each piece, so rounding errors never accumulate: the total
    stays within half a frame of ``sum(durations)``. Each segment gets at least one frame (a zero-frame
    segment cannot be encoded); a later boundary absorbs the extra frame.
    """
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    boundaries = [0]
    elapsed = 0.0
    for duration in durations:
        if duration < 0:
            raise ValueError(f"segment durations cannot be negative, got {duration}")
        elapsed += duration
        boundaries.append(max(round(elapsed * fps), boundaries[-1] + 1))
    return boundaries


def frame_counts(durations: Sequence[float], fps: int) -> list[int]:
    boundaries = frame_boundaries(durations, fps)
    return [end - start for start, end in pairwise(boundaries)]


def seconds_text(seconds: float) -> str:
    """A duration as FFmpeg reads it: plain decimal seconds, microsecond precision, no exponent."""
    return f"{seconds:.6f}".rstrip("0").rstrip(".") or "0"


def escape_filter_value(value: str) -> str:
    """Quote ``value`` (e.g. a path) as one option value inside a ``-vf`` / ``-filter_complex`` graph.

    FFmpeg parses two levels: the option value (``\\``, ``'`` and ``:`` are special), then the filter
    graph (``\\ ' [ ] , ;`` are special), so a path such as ``/tmp/it's [1], a:b`` survives both.
    """
    option_level = value.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    return "".join(f"\\{char}" if char in _FILTERGRAPH_SPECIALS else char for char in option_level)


def subtitles_filter(ass_path: Path, fontsdir: Path | None) -> str:
    parts = [f"subtitles=filename={escape_filter_value(str(ass_path))}"]
    if fontsdir is not None:
        parts.append(f"fontsdir={escape_filter_value(str(fontsdir))}")
    return ":".join(parts)


def segment_args(
    slide_png: Path,
    ass_path: Path | None,
    fontsdir: Path | None,
    out_path: Path,
    *,
    frames: int,
    fps: int,
    size: tuple[int, int],
) -> list[str]:
    """Encode one scene: a still slide held for exactly ``frames`` frames, subtitles burned when given.

    The image is decoded once and looped; the segment has no audio (narration is laid under the joined
    video in :func:`final_mux_args`) and uses the same encoder settings as every other segment so the
    concat demuxer can join them with ``-c:v copy``.
    """
    if frames < 1:
        raise ValueError(f"a segment needs at least one frame, got {frames}")
    width, height = size
    filters = [f"scale={width}:{height}:flags=lanczos", "setsar=1"]
    if ass_path is not None:
        filters.append(subtitles_filter(ass_path, fontsdir))
    filters.append("format=yuv420p")
    return [
        "ffmpeg",
        "-hide_banner",
        "-nostdin",
        "-y",
        "-loop",
        "1",
        "-framerate",
        str(fps),
        "-i",
        str(slide_png),
        "-vf",
        ",".join(filters),
        "-t",
        seconds_text(frames / fps),
        "-frames:v",
        str(frames),
        "-r",
        str(fps),
        "-c:v",
        "libx264",
        "-profile:v",
        "high",
        "-preset",
        X264_PRESET,
        "-tune",
        "stillimage",
        "-crf",
        str(VIDEO_CRF),
        "-pix_fmt",
        "yuv420p",
        "-an",
        "-progress",
        "pipe:1",
        "-nostats",
        str(out_path),
    ]


def concat_list_text(segment_paths: Sequence[Path]) -> str:
    """An ``ffconcat`` script listing the segments; single quotes in paths are escaped the concat way."""
    lines = ["ffconcat version 1.0"]
    for path in segment_paths:
        quoted = str(path).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
    return "\n".join(lines) + "\n"


def narration_filter(durations: Sequence[float]) -> str:
    """Pad or trim each narration input (inputs 1…N) to its segment's length, then join them.

    Every clip is first brought to 48 kHz stereo float so ``concat`` sees identical streams whatever each
    TTS provider produced.
    """
    chains = [
        f"[{index + 1}:a]aresample={AUDIO_SAMPLE_RATE},"
        f"aformat=sample_fmts=fltp:sample_rates={AUDIO_SAMPLE_RATE}:channel_layouts=stereo,"
        f"apad,atrim=end={seconds_text(duration)},asetpts=PTS-STARTPTS[a{index}]"
        for index, duration in enumerate(durations)
    ]
    joined = "".join(f"[a{index}]" for index in range(len(durations)))
    return ";".join([*chains, f"{joined}concat=n={len(durations)}:v=0:a=1[narration]"])


def final_mux_args(
    concat_list: Path,
    audio_paths: Sequence[Path],
    segment_durations: Sequence[float],
    out_path: Path,
    *,
    total_duration_sec: float,
) -> list[str]:
    """Join the segments without re-encoding and lay the narration under them, scene by scene.

    ``segment_durations`` are the exact segment lengths (frames / fps), so every scene's audio starts
    on the frame its slide does. ``-t`` caps the output at the video's length; nothing relies on
    ``-shortest``.
    """
    if len(audio_paths) != len(segment_durations) or not audio_paths:
        raise ValueError(
            f"need one narration clip per segment, got {len(audio_paths)} clips for {len(segment_durations)} segments"
        )
    args = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-f", "concat", "-safe", "0", "-i", str(concat_list)]
    for audio in audio_paths:
        args += ["-i", str(audio)]
    return [
        *args,
        "-filter_complex",
        narration_filter(segment_durations),
        "-map",
        "0:v:0",
        "-map",
        "[narration]",
        "-c:v",
        "copy",
        "-c:a",
        "aac",
        "-b:a",
        AUDIO_BITRATE,
        "-ar",
        str(AUDIO_SAMPLE_RATE),
        "-t",
        seconds_text(total_duration_sec),
        "-movflags",
        "+faststart",
        "-progress",
        "pipe:1",
        "-nostats",
        str(out_path),
    ]
