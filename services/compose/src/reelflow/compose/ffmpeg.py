"""Pure builders of FFmpeg argument lists (shared encoder settings, parts, concat list, final mux) and frame timing."""

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

from reelflow.compose.motion import MovingSlide

AUDIO_SAMPLE_RATE = 48_000
AUDIO_BITRATE = "160k"
VIDEO_CRF = 20
X264_PRESET = "veryfast"

STEREO_48K = f"aformat=sample_fmts=fltp:sample_rates={AUDIO_SAMPLE_RATE}:channel_layouts=stereo"
"""The one audio format every lesson stream is brought to before it is joined or mixed."""

FFMPEG_WRITING = ("ffmpeg", "-hide_banner", "-nostdin", "-y")
"""How every FFmpeg run that writes a file starts: quiet, never waiting on stdin, replacing a retried attempt's file."""

PROGRESS_ON_STDOUT = ("-progress", "pipe:1", "-nostats")
"""Machine-readable progress on stdout instead of the stats line, for ``run_process`` to parse."""

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


def video_track_timescale(fps: int) -> int:
    """The MP4 track timescale of every part: a whole number of ticks per frame, the same in every file.

    Parts joined by the concat demuxer keep the first file's time base; giving all of them one timescale
    (and exact frame counts) means no timestamp is ever rescaled, so the joined video stays constant-rate.
    """
    return fps * 1000


def x264_args(
    fps: int,
    *,
    preset: str = X264_PRESET,
    crf: int = VIDEO_CRF,
    profile: str | None = "high",
    tune: str | None = None,
) -> list[str]:
    """H.264 in 4:2:0 at a constant ``fps``; the defaults are the quality every delivered video is encoded at.

    ``profile=None`` leaves the profile to x264, for intermediates that only FFmpeg itself reads again.
    """
    return [
        "-r",
        str(fps),
        "-c:v",
        "libx264",
        *(["-profile:v", profile] if profile is not None else []),
        "-preset",
        preset,
        *(["-tune", tune] if tune is not None else []),
        "-crf",
        str(crf),
        "-pix_fmt",
        "yuv420p",
    ]


def x264_output_args(fps: int, *, still: bool) -> list[str]:
    """Encoder settings shared by every part of one video, so the concat demuxer can join them with ``-c:v copy``.

    ``still`` picks x264's still-image tuning (basic slides); a moving picture must not use it, and all parts
    of one video must agree on it or their parameter sets would differ.
    """
    return [
        *x264_args(fps, tune="stillimage" if still else None),
        "-video_track_timescale",
        str(video_track_timescale(fps)),
        "-an",
        *PROGRESS_ON_STDOUT,
    ]


def finished_video_args(total_sec: float, out_path: Path) -> list[str]:
    """How every delivered MP4 ends its command: AAC audio at 48 kHz, cut at exactly ``total_sec`` (nothing
    relies on ``-shortest``), and the index moved to the front so playback can start while it downloads."""
    return [
        "-c:a",
        "aac",
        "-b:a",
        AUDIO_BITRATE,
        "-ar",
        str(AUDIO_SAMPLE_RATE),
        "-t",
        seconds_text(total_sec),
        "-movflags",
        "+faststart",
        *PROGRESS_ON_STDOUT,
        str(out_path),
    ]


def repeated_frame_filter(frames: int, fps: int) -> str:
    """Repeat a single decoded frame ``frames`` times with exact CFR timestamps at ``fps``.

    Cheaper than ``-loop 1`` on the input, which would decode (and filter) the image again for every frame.
    """
    return f"loop=loop={frames - 1}:size=1,setpts=N/({fps}*TB)"


def still_frames_filter(size: tuple[int, int], *, frames: int, fps: int) -> str:
    """Scale and convert one decoded still once, then repeat that frame ``frames`` times at ``fps``.

    The image is read as a single frame and only the converted frame is repeated (:func:`repeated_frame_filter`),
    so the PNG is never decoded or scaled again.
    """
    width, height = size
    return f"scale={width}:{height}:flags=lanczos,setsar=1,format=yuv420p,{repeated_frame_filter(frames, fps)}"


def _still_input_args(png: Path, fps: int) -> list[str]:
    """An image input read as one frame at the part's rate (repeated later by :func:`still_frames_filter`)."""
    return ["-framerate", str(fps), "-i", str(png)]


def _part_output_args(out_path: Path, *, frames: int, fps: int, still: bool) -> list[str]:
    """Exactly ``frames`` frames, encoded as every other part of the video is (:func:`x264_output_args`)."""
    return ["-frames:v", str(frames), *x264_output_args(fps, still=still), str(out_path)]


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

    The image is decoded once and its frame repeated (:func:`still_frames_filter`); the segment has no audio
    (narration is laid under the joined video in :func:`final_mux_args`) and uses the same encoder settings as
    every other segment so the concat demuxer can join them with ``-c:v copy``.
    """
    if frames < 1:
        raise ValueError(f"a segment needs at least one frame, got {frames}")
    filters = [still_frames_filter(size, frames=frames, fps=fps)]
    if ass_path is not None:
        filters.append(subtitles_filter(ass_path, fontsdir))
    return [
        *FFMPEG_WRITING,
        *_still_input_args(slide_png, fps),
        "-vf",
        ",".join(filters),
        *_part_output_args(out_path, frames=frames, fps=fps, still=True),
    ]


def animated_part_args(
    slides: Sequence[MovingSlide],
    ass_path: Path | None,
    fontsdir: Path | None,
    out_path: Path,
    *,
    frames: int,
    fps: int,
    size: tuple[int, int],
) -> list[str]:
    """Encode one part of an animated lesson: a moving slide, or a crossfade between two moving slides.

    Each slide is decoded once and repeated (:func:`still_frames_filter`), then moved by its Ken Burns
    filter; two slides are blended with ``xfade`` over the whole part, from the first (progress 0 on the
    part's first frame) towards the second. Subtitles are burned after the motion so they never zoom.
    """
    if frames < 1:
        raise ValueError(f"a part needs at least one frame, got {frames}")
    if len(slides) not in (1, 2):
        raise ValueError(f"a part shows one slide or crossfades two, got {len(slides)}")
    args = list(FFMPEG_WRITING)
    chains = []
    for index, slide in enumerate(slides):
        args += _still_input_args(slide.png, fps)
        chains.append(
            f"[{index}:v]{still_frames_filter(size, frames=frames, fps=fps)},{slide.motion_filter()}[s{index}]"
        )
    picture = "[s0]"
    if len(slides) == 2:
        chains.append(f"[s0][s1]xfade=transition=fade:duration={seconds_text(frames / fps)}:offset=0[mixed]")
        picture = "[mixed]"
    finish = [subtitles_filter(ass_path, fontsdir)] if ass_path is not None else ["null"]
    chains.append(f"{picture}{','.join(finish)}[picture]")
    return [
        *args,
        "-filter_complex",
        ";".join(chains),
        "-map",
        "[picture]",
        *_part_output_args(out_path, frames=frames, fps=fps, still=False),
    ]


def concat_list_text(segment_paths: Sequence[Path], durations_sec: Sequence[float] | None = None) -> str:
    """An ``ffconcat`` script listing the segments; single quotes in paths are escaped the concat way.

    With ``durations_sec`` each file gets a ``duration`` line. Without it the demuxer takes each file's
    duration from its MP4 header, which is rounded up to the millisecond, so every join would shift the
    following timestamps by up to 1 ms and the joined video would no longer be constant-rate. Durations are
    written so that their running sum is the exact running sum rounded to the microsecond: errors never add up.
    """
    if durations_sec is not None and len(durations_sec) != len(segment_paths):
        raise ValueError(f"need one duration per segment, got {len(durations_sec)} for {len(segment_paths)}")
    lines = ["ffconcat version 1.0"]
    elapsed = 0.0
    elapsed_us = 0
    for index, path in enumerate(segment_paths):
        quoted = str(path).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        if durations_sec is not None:
            elapsed += durations_sec[index]
            end_us = round(elapsed * 1_000_000)
            lines.append(f"duration {(end_us - elapsed_us) / 1_000_000:.6f}")
            elapsed_us = end_us
    return "\n".join(lines) + "\n"


def narration_filter(durations: Sequence[float], *, first_input: int = 1) -> str:
    """Pad or trim each narration input (inputs ``first_input``… in order) to its segment's length, then join them.

    Every clip is first brought to 48 kHz stereo float so ``concat`` sees identical streams whatever each
    TTS provider produced. The joined track is labelled ``[narration]``.
    """
    chains = [
        f"[{index + first_input}:a]aresample={AUDIO_SAMPLE_RATE},{STEREO_48K},"
        f"apad,atrim=end={seconds_text(duration)},asetpts=PTS-STARTPTS[a{index}]"
        for index, duration in enumerate(durations)
    ]
    joined = "".join(f"[a{index}]" for index in range(len(durations)))
    return ";".join([*chains, f"{joined}concat=n={len(durations)}:v=0:a=1[narration]"])


SOUNDTRACK_LABEL = "soundtrack"


def final_mux_args(
    concat_list: Path,
    audio_paths: Sequence[Path],
    segment_durations: Sequence[float],
    out_path: Path,
    *,
    total_duration_sec: float,
    soundtrack_filter: str | None = None,
    looped_audio: Path | None = None,
) -> list[str]:
    """Join the segments without re-encoding and lay the narration under them, scene by scene.

    ``segment_durations`` are the exact scene lengths (frames / fps), so every scene's audio starts on the
    frame its slide does. ``soundtrack_filter``, when given, continues the graph from ``[narration]`` (and
    from ``looped_audio``, the input right after the narration clips, opened with ``-stream_loop -1`` so a
    short music file covers the whole video) to ``[soundtrack]``, which is then the audio that is encoded.
    ``-t`` caps the output at the video's length; nothing relies on ``-shortest``.
    """
    if len(audio_paths) != len(segment_durations) or not audio_paths:
        raise ValueError(
            f"need one narration clip per segment, got {len(audio_paths)} clips for {len(segment_durations)} segments"
        )
    if looped_audio is not None and soundtrack_filter is None:
        raise ValueError("a looped audio input is only used by a soundtrack filter")
    args = [*FFMPEG_WRITING, "-f", "concat", "-safe", "0", "-i", str(concat_list)]
    for audio in audio_paths:
        args += ["-i", str(audio)]
    if looped_audio is not None:
        args += ["-stream_loop", "-1", "-i", str(looped_audio)]
    graph = narration_filter(segment_durations)
    audio_label = "[narration]"
    if soundtrack_filter is not None:
        graph = f"{graph};{soundtrack_filter}"
        audio_label = f"[{SOUNDTRACK_LABEL}]"
    return [
        *args,
        "-filter_complex",
        graph,
        "-map",
        "0:v:0",
        "-map",
        audio_label,
        "-c:v",
        "copy",
        *finished_video_args(total_duration_sec, out_path),
    ]
