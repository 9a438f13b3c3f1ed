"""Pure builders of FFmpeg argument lists (shared encoder settings, pictures, parts, concat lists, muxes) and
frame timing."""

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Literal

from reelflow.compose.backdrops import LayeredShot, PictureBackdrop, Window
from reelflow.compose.motion import MovingSlide, ken_burns_filter

AUDIO_SAMPLE_RATE = 48_000
# Narration alone is speech on one channel: mono AAC at YouTube's recommended 128 kbit/s for mono, with
# FFmpeg's "fast" coder, about four times quicker than its default two-loop search and still transparent
# for speech at that rate. Anything with music or clip sound stays stereo with the default coder.
MONO_AUDIO_BITRATE = "128k"
MONO_AAC_CODER = "fast"
STEREO_AUDIO_BITRATE = "160k"
VIDEO_CRF = 20
X264_PRESET = "veryfast"
# What moves (an animated lesson's parts, a short) is encoded with a diamond motion search, the first sub-pixel
# refinement level and intra partitions only (the rest of veryfast), at CRF 19 instead of 20. Measured against the
# frames before encoding, it is better by both SSIM and PSNR for less CPU: on the bench short (1080x1920 clips)
# SSIM 0.9919 and PSNR 46.2 dB where veryfast at CRF 20 gave 0.9914 and 45.3 dB, for 38% less encoder CPU and a
# file 30% larger (about 7 Mbit/s); on a moving 720p slide 0.9974 and 48.9 dB against 0.9972 and 48.0 dB, for 26%
# less CPU and a smaller file (bench/README.md).
MOVING_X264_PARAMS = "me=dia:subme=1:partitions=i8x8,i4x4"
MOVING_CRF = 19
# x264's entropy coder. CABAC is the default; CAVLC writes the very same pictures (the decoded frames are identical)
# into more bits with less work. A ranking short is coded at a high rate (about 7.6 Mbit/s at 1080x1920), where
# CABAC's arithmetic coding is a large share of the encoder's work: CAVLC takes 9% less encoder CPU (the bench
# short's job 4% less time) for a file 13% larger. A lesson's moving parts are small and mostly still, so they keep
# the smaller file.
EntropyCoder = Literal["cabac", "cavlc"]
# A held picture is encoded once (an IDR frame) and never refined by later frames, so it is encoded at the
# quality the continuous CRF 20 stream used to reach only after x264's macroblock-tree boost and its
# P-frames' refinement (see bench/README.md for the measurement against the lossless pictures).
STILL_PICTURE_CRF = 10
# What lets a moving shot be spliced between held pictures in one raw H.264 stream (h264_hold.spliced_stream): no
# B-frames (the held stream's timestamps are its decode order) and CAVLC, like the pictures, and x264's
# "stitchable" headers, which do not depend on the quality settings, so both encodes write the very same
# parameter sets.
SPLICEABLE_X264_ARGS = ("-bf", "0", "-coder", "cavlc")
STITCHABLE = "stitchable=1"
# A decoded video's colour tags would go into x264's parameter sets; the slides carry none, so neither does a shot.
UNTAGGED_COLOURS = "setparams=range=unknown:color_primaries=unknown:color_trc=unknown:colorspace=unknown"

ChannelLayout = Literal["mono", "stereo"]

STEREO_48K = f"aformat=sample_fmts=fltp:sample_rates={AUDIO_SAMPLE_RATE}:channel_layouts=stereo"
"""The audio format every mixed or stereo stream is brought to before it is joined or mixed."""


def audio_format_filter(layout: ChannelLayout) -> str:
    """``aformat`` text bringing a stream to 48 kHz float in ``layout`` (stereo is :data:`STEREO_48K`)."""
    return f"aformat=sample_fmts=fltp:sample_rates={AUDIO_SAMPLE_RATE}:channel_layouts={layout}"


def aac_args(layout: ChannelLayout) -> list[str]:
    """AAC-LC at 48 kHz: mono speech with the fast coder, stereo with the default coder (see the bitrates)."""
    if layout == "mono":
        codec = ["-c:a", "aac", "-aac_coder", MONO_AAC_CODER, "-b:a", MONO_AUDIO_BITRATE, "-ac", "1"]
    else:
        codec = ["-c:a", "aac", "-b:a", STEREO_AUDIO_BITRATE, "-ac", "2"]
    return [*codec, "-ar", str(AUDIO_SAMPLE_RATE)]


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


def burned_captions_filter(ass_path: Path | None, fontsdir: Path | None) -> str:
    """The last filter of a moving part: its captions burned in (:func:`subtitles_filter`), or ``null`` without."""
    return subtitles_filter(ass_path, fontsdir) if ass_path is not None else "null"


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
    params: str | None = None,
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
        *(["-x264-params", params] if params is not None else []),
        "-crf",
        str(crf),
        "-pix_fmt",
        "yuv420p",
    ]


def x264_output_args(fps: int, *, entropy_coder: EntropyCoder = "cabac") -> list[str]:
    """Encoder settings of everything that moves (:data:`MOVING_X264_PARAMS`), the same for every part of one video,
    so the concat demuxer can join them with ``-c:v copy``; ``entropy_coder`` see :data:`EntropyCoder`."""
    return [
        *x264_args(fps, crf=MOVING_CRF, params=MOVING_X264_PARAMS),
        "-coder",
        entropy_coder,
        "-video_track_timescale",
        str(video_track_timescale(fps)),
        "-an",
        *PROGRESS_ON_STDOUT,
    ]


def delivered_file_args(total_sec: float, out_path: Path) -> list[str]:
    """How every delivered MP4 ends its command: cut at exactly ``total_sec`` (nothing relies on
    ``-shortest``), and the index moved to the front so playback can start while it downloads."""
    return ["-t", seconds_text(total_sec), "-movflags", "+faststart", *PROGRESS_ON_STDOUT, str(out_path)]


def repeated_frame_filter(frames: int, fps: int) -> str:
    """Repeat a single decoded frame ``frames`` times with exact CFR timestamps at ``fps``.

    Cheaper than ``-loop 1`` on the input, which would decode (and filter) the image again for every frame.
    """
    return f"loop=loop={frames - 1}:size=1,setpts=N/({fps}*TB)"


def picture_format_filter(size: tuple[int, int]) -> str:
    """A decoded slide brought to the frame's size, square pixels and 4:2:0, as every picture is encoded."""
    width, height = size
    return f"scale={width}:{height}:flags=lanczos,setsar=1,format=yuv420p"


def still_frames_filter(size: tuple[int, int], *, frames: int, fps: int) -> str:
    """Scale and convert one decoded still once, then repeat that frame ``frames`` times at ``fps``.

    The image is read as a single frame and only the converted frame is repeated (:func:`repeated_frame_filter`),
    so the PNG is never decoded or scaled again.
    """
    return f"{picture_format_filter(size)},{repeated_frame_filter(frames, fps)}"


def still_input_args(png: Path, fps: int) -> list[str]:
    """An image input read as one frame at the part's rate (repeated later by :func:`still_frames_filter`)."""
    return ["-framerate", str(fps), "-i", str(png)]


def still_pictures_args(
    concat_list: Path,
    ass_path: Path | None,
    fontsdir: Path | None,
    out_path: Path,
    *,
    pictures: int,
    fps: int,
    size: tuple[int, int],
) -> list[str]:
    """Encode every distinct picture of a still-slide lesson once, each as one IDR frame, into raw H.264.

    ``concat_list`` lists one slide per picture, each lasting one slot (:func:`concat_list_text`), and
    ``ass_path`` times each picture's captions on its slot, so one run draws every picture. The frames are
    then restamped one frame apart at ``fps``, the rate the held stream plays at (x264 writes it into the
    stream). Every frame is forced to an IDR frame without B-frames and coded with CAVLC, which is what
    :func:`reelflow.compose.h264_hold.spliced_stream` writes its skip frames for; the pictures use
    x264's still-image tuning at :data:`STILL_PICTURE_CRF`. Intra frames gain nothing from x264's lookahead
    or its threads, which only hold more frames in memory, so both are off.
    """
    if pictures < 1:
        raise ValueError(f"a lesson shows at least one picture, got {pictures}")
    filters = [picture_format_filter(size)]
    if ass_path is not None:
        filters.append(subtitles_filter(ass_path, fontsdir))
    filters.append(f"setpts=N/({fps}*TB)")
    return [
        *FFMPEG_WRITING,
        *_concat_input_args(concat_list),
        "-vf",
        ",".join(filters),
        "-fps_mode",
        "passthrough",
        "-frames:v",
        str(pictures),
        *x264_args(fps, crf=STILL_PICTURE_CRF, tune="stillimage"),
        *SPLICEABLE_X264_ARGS,
        "-force_key_frames",
        "expr:1",
        "-forced-idr",
        "1",
        "-threads",
        "1",
        "-x264-params",
        f"rc-lookahead=0:{STITCHABLE}",
        "-an",
        "-f",
        "h264",
        *PROGRESS_ON_STDOUT,
        str(out_path),
    ]


def animated_part_args(
    slides: Sequence[MovingSlide | LayeredShot],
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
    filter; a scene with a video visual shows its video under its still text instead (:func:`layered_shot_chain`).
    Two slides are blended with ``xfade`` over the whole part, from the first (progress 0 on the
    part's first frame) towards the second. Subtitles are burned after the motion so they never zoom.
    Every part is encoded alike (:func:`x264_output_args`), so the concat demuxer joins them by copying.
    """
    if frames < 1:
        raise ValueError(f"a part needs at least one frame, got {frames}")
    if len(slides) not in (1, 2):
        raise ValueError(f"a part shows one slide or crossfades two, got {len(slides)}")
    args = list(FFMPEG_WRITING)
    chains = []
    for index, slide in enumerate(slides):
        first_input = _count_inputs(args)
        if isinstance(slide, LayeredShot):
            inputs, chain = layered_shot_chain(slide, first_input, f"s{index}", frames=frames, fps=fps, size=size)
            args += inputs
            chains.append(chain)
            continue
        args += still_input_args(slide.png, fps)
        chains.append(
            f"[{first_input}:v]{still_frames_filter(size, frames=frames, fps=fps)},{slide.motion_filter()}[s{index}]"
        )
    picture = "[s0]"
    if len(slides) == 2:
        chains.append(f"[s0][s1]xfade=transition=fade:duration={seconds_text(frames / fps)}:offset=0[mixed]")
        picture = "[mixed]"
    chains.append(f"{picture}{burned_captions_filter(ass_path, fontsdir)}[picture]")
    return [
        *args,
        "-filter_complex",
        ";".join(chains),
        "-map",
        "[picture]",
        "-frames:v",
        str(frames),
        *x264_output_args(fps),
        str(out_path),
    ]


def drawn_part_args(
    ass_path: Path | None,
    fontsdir: Path | None,
    out_path: Path,
    *,
    frames: int,
    fps: int,
    size: tuple[int, int],
) -> list[str]:
    """Encode one part of an animated lesson whose frames are drawn in Python (:mod:`moving_slides`) and arrive on
    stdin as raw 4:2:0: square pixels as every picture has, the subtitles burned over them, and the encoder
    settings every part shares (:func:`x264_output_args`), so the concat demuxer joins them by copying."""
    if frames < 1:
        raise ValueError(f"a part needs at least one frame, got {frames}")
    width, height = size
    return [
        *FFMPEG_WRITING,
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        f"{width}x{height}",
        "-framerate",
        str(fps),
        "-i",
        "pipe:0",
        "-vf",
        f"setsar=1,{burned_captions_filter(ass_path, fontsdir)}",
        "-frames:v",
        str(frames),
        *x264_output_args(fps),
        str(out_path),
    ]


def _count_inputs(args: Sequence[str]) -> int:
    return sum(1 for arg in args if arg == "-i")


def video_backdrop_filter(
    window: Window | None, *, first_frame: int, frames: int, fps: int, size: tuple[int, int]
) -> str:
    """A video brought to the lesson: frames ``first_frame``… of it at ``fps`` from its first frame, covering the
    frame (scaled up to cover, centred, its overflow cut) or scaled into ``window`` on black; its last frame is
    held for as long as the shot outlasts it, and exactly ``frames`` frames come out with CFR timestamps."""
    width, height = size
    if window is None:
        place = f"scale={width}:{height}:force_original_aspect_ratio=increase:flags=lanczos,crop={width}:{height}"
    else:
        left, top, right, bottom = window
        place = f"scale={right - left}:{bottom - top}:flags=lanczos,pad={width}:{height}:{left}:{top}:black"
    return (
        f"setpts=PTS-STARTPTS,fps={fps},{place},setsar=1,format=yuv420p,tpad=stop_mode=clone:stop=-1,"
        f"trim=start_frame={first_frame}:end_frame={first_frame + frames},setpts=N/({fps}*TB)"
    )


def layered_shot_chain(
    shot: LayeredShot, first_input: int, label: str, *, frames: int, fps: int, size: tuple[int, int]
) -> tuple[list[str], str]:
    """The inputs (the backdrop, then the overlay) and the filter chain, ending in ``[label]``, of a shot whose
    backdrop moves under its still overlay: a full-frame picture's Ken Burns, or a video.

    The overlay is read once as a single frame and repeated by ``overlay`` itself (``eof_action=repeat``).
    """
    backdrop = shot.backdrop
    if isinstance(backdrop, PictureBackdrop):
        inputs = still_input_args(backdrop.still, fps)
        motion = ken_burns_filter(backdrop.move, first_frame=shot.first_frame, span_frames=shot.span_frames)
        moving = f"{still_frames_filter(size, frames=frames, fps=fps)},{motion}"
    else:
        # Seeking the input lands exactly on start_sec (FFmpeg decodes from the keyframe before it and drops the
        # frames in between), and the frames after it start at 0; -t ends the input at end_sec, past the video's own
        # end changing nothing. Either way its last frame then holds (video_backdrop_filter).
        cut = ["-ss", seconds_text(backdrop.start_sec)] if backdrop.start_sec > 0 else []
        if backdrop.end_sec is not None:
            cut += ["-t", seconds_text(backdrop.end_sec - backdrop.start_sec)]
        inputs = [*cut, "-i", str(backdrop.video)]
        moving = video_backdrop_filter(backdrop.window, first_frame=shot.first_frame, frames=frames, fps=fps, size=size)
    inputs += still_input_args(shot.overlay, fps)
    chain = (
        f"[{first_input}:v]{moving}[{label}back];"
        f"[{label}back][{first_input + 1}:v]overlay=eof_action=repeat:format=yuv420[{label}]"
    )
    return inputs, chain


def spliced_shot_args(
    shot: LayeredShot,
    ass_path: Path | None,
    fontsdir: Path | None,
    out_path: Path,
    *,
    frames: int,
    fps: int,
    size: tuple[int, int],
) -> list[str]:
    """Encode a moving shot of a still-slide lesson into raw H.264 that splices between its held pictures.

    The frames are drawn as in an animated lesson (:func:`layered_shot_chain`), with the scene's captions burned
    on top, and encoded at the delivered quality with the pictures' stream settings
    (:data:`SPLICEABLE_X264_ARGS`, :data:`STITCHABLE`), starting on an IDR frame.
    """
    if frames < 1:
        raise ValueError(f"a shot needs at least one frame, got {frames}")
    inputs, chain = layered_shot_chain(shot, 0, "shot", frames=frames, fps=fps, size=size)
    finish = [subtitles_filter(ass_path, fontsdir)] if ass_path is not None else []
    return [
        *FFMPEG_WRITING,
        *inputs,
        "-filter_complex",
        f"{chain};[shot]{','.join([*finish, UNTAGGED_COLOURS])}[picture]",
        "-map",
        "[picture]",
        "-frames:v",
        str(frames),
        *x264_args(fps),
        *SPLICEABLE_X264_ARGS,
        "-x264-params",
        STITCHABLE,
        "-an",
        "-f",
        "h264",
        *PROGRESS_ON_STDOUT,
        str(out_path),
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


def _concat_input_args(concat_list: Path) -> list[str]:
    """The concat demuxer reading an ``ffconcat`` script whose paths are absolute (hence ``-safe 0``)."""
    return ["-f", "concat", "-safe", "0", "-i", str(concat_list)]


def narration_filter(durations: Sequence[float], *, first_input: int = 1, layout: ChannelLayout = "stereo") -> str:
    """Pad or trim each narration input (inputs ``first_input``… in order) to its segment's length, then join them.

    Every clip is first brought to 48 kHz float in ``layout`` so ``concat`` sees identical streams whatever
    each TTS provider produced. The joined track is labelled ``[narration]``.
    """
    chains = [
        f"[{index + first_input}:a]aresample={AUDIO_SAMPLE_RATE},{audio_format_filter(layout)},"
        f"apad,atrim=end={seconds_text(duration)},asetpts=PTS-STARTPTS[a{index}]"
        for index, duration in enumerate(durations)
    ]
    joined = "".join(f"[a{index}]" for index in range(len(durations)))
    return ";".join([*chains, f"{joined}concat=n={len(durations)}:v=0:a=1[narration]"])


SOUNDTRACK_LABEL = "soundtrack"


def held_pictures_mux_args(
    held_stream: Path, soundtrack: Path, out_path: Path, *, fps: int, total_duration_sec: float
) -> list[str]:
    """Put the held pictures' raw H.264 and the encoded soundtrack into the delivered MP4, copying both.

    A raw stream carries no timestamps. ``-r`` on the input makes FFmpeg compute each packet's decode time
    from its frame number (``-framerate`` would add up a frame duration truncated to the microsecond, and
    drift by a tick every 100 frames at 30 fps); with no reordering, presentation time is decode time.
    """
    return [
        *FFMPEG_WRITING,
        "-f",
        "h264",
        "-r",
        str(fps),
        "-i",
        str(held_stream),
        *_copied_streams_args(soundtrack, fps),
        "-bsf:v",
        "setts=pts=DTS",
        *delivered_file_args(total_duration_sec, out_path),
    ]


def parts_mux_args(
    concat_list: Path, soundtrack: Path, out_path: Path, *, fps: int, total_duration_sec: float
) -> list[str]:
    """Join the encoded parts with the concat demuxer and put them with the encoded soundtrack, copying both."""
    return [
        *FFMPEG_WRITING,
        *_concat_input_args(concat_list),
        *_copied_streams_args(soundtrack, fps),
        *delivered_file_args(total_duration_sec, out_path),
    ]


def picture_and_soundtrack_mux_args(
    picture: Path, soundtrack: Path, out_path: Path, *, fps: int, total_duration_sec: float
) -> list[str]:
    """Put an encoded picture (an MP4 without sound) and the encoded soundtrack together, copying both."""
    return [
        *FFMPEG_WRITING,
        "-i",
        str(picture),
        *_copied_streams_args(soundtrack, fps),
        *delivered_file_args(total_duration_sec, out_path),
    ]


def _copied_streams_args(soundtrack: Path, fps: int) -> list[str]:
    """The soundtrack as input 1, and input 0's picture with it, neither re-encoded."""
    return [
        "-i",
        str(soundtrack),
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c",
        "copy",
        "-video_track_timescale",
        str(video_track_timescale(fps)),
    ]
