"""Encoding a ranking short in one pass: the picture and the soundtrack, each one FFmpeg run, side by side.

Every source frame is decoded, cropped, scaled and badged once, straight into the delivered encoding: no
intermediate file is written and read back. Clips are blended by ``xfade`` only over the frames where they
overlap; everywhere else it passes frames through. The soundtrack (each clip's own sound, levelled or
silenced, crossfaded exactly where the pictures are, with the music bed under it) is encoded at the same
time, and the final mux copies both.

Measured on the benchmark short (three 4 s clips at 1080p, 1080x1920 and 720p): one pass costs about a
fifth less CPU than the same work cut into parts encoded side by side, because a part that starts inside
a clip must decode it again from the keyframe before it, and uploads often have few keyframes.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from reelflow.compose.announcements import VOICE_LABEL, AnnouncementSlot, announcements_filter
from reelflow.compose.audio_mix import music_bed_filter, voice_over_bed_filter
from reelflow.compose.ffmpeg import (
    AUDIO_SAMPLE_RATE,
    FFMPEG_WRITING,
    PROGRESS_ON_STDOUT,
    STEREO_48K,
    aac_args,
    repeated_frame_filter,
    seconds_text,
    still_frames_filter,
    still_input_args,
    x264_output_args,
)
from reelflow.compose.loudness import loudnorm_targets
from reelflow.compose.motion import KenBurns, ken_burns_filter
from reelflow.compose.ranking import BADGE_FADE_SEC, TRANSITION, RankingPlan, thumbnail_frame

# Single pass per clip (dynamic mode): clips are short and each keeps its own level. Same target as lessons.
LOUDNESS_FILTER = f"loudnorm={loudnorm_targets()}"
_JOINED_AUDIO = "clips"
# A clip enlarged this much or more (a 640x360 clip in a 1080-wide short) is sharpened after its scale, so it
# does not look soft; the unsharp mask is mild, on luma only, and costs nothing for clips that are not enlarged.
SHARPEN_FROM_UPSCALE = 1.5
SHARPEN_UPSCALED = "unsharp=lx=5:ly=5:la=0.8:cx=3:cy=3:ca=0,"
# The backdrop of a clip fitted whole: its crop, blurred at a small size, a little darker, scaled up.
BLUR_DOWNSCALE = 8
BLUR_RADIUS = 5  # two passes of it
BLUR_BRIGHTNESS = -0.08


def _sharpen(scaled_width: int, source_width: int) -> str:
    """The sharpening filter (with its comma) for a picture scaled from ``source_width`` to ``scaled_width``."""
    return SHARPEN_UPSCALED if scaled_width >= SHARPEN_FROM_UPSCALE * max(1, source_width) else ""


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def clip_picture_filter(plan: RankingPlan, index: int, *, source: str, badge: str, out: str) -> str:
    """Filter text for clip ``index``: input ``source`` (the clip, trimmed to its window) and ``badge`` (the
    PNG) become ``out``, exactly the clip's planned frames.

    The picture is brought to the plan's frame rate first (its grid anchored on the trim's start), padded by
    repeating its last frame and cut, so a source that ends a little early still yields every planned frame.
    A still picture (``planned.motion``) is framed once, as its one frame, then that frame is repeated for the
    planned frames and moved by its Ken Burns filter, the same one an animated lesson's slides move by.
    It is centre-cropped to the frame's shape and scaled to it once; or, when the plan fits it whole
    (``planned.fit``), scaled to fit and padded with black (``planned.letterbox``) or laid over a blurred, darkened
    copy of its crop: the blur is made at a :data:`BLUR_DOWNSCALE`-th of the frame's size and scaled up, so it
    costs little next to the clip's own scale.
    The badge is decoded and converted to the picture's own 4:2:0 (with alpha) once, then its frame is
    repeated, fading in on its alpha channel over the clip's first :data:`BADGE_FADE_SEC`: blending it then
    needs no conversion per frame (left to pick its own format, ``overlay`` converted every frame of the
    picture to RGB and back, which cost more than cropping and scaling it).
    """
    planned = plan.clips[index]
    width, height = plan.size
    crop = planned.crop
    fill = f"crop={crop.width}:{crop.height}:{crop.x}:{crop.y}"
    rate = f"fps={plan.fps}:start_time=0,"
    timed = f"tpad=stop_mode=clone:stop_duration=1,trim=end_frame={planned.frames},setpts=PTS-STARTPTS"
    if planned.motion is not None:
        rate = ""
        timed = f"{repeated_frame_filter(planned.frames, plan.fps)},{_moving(planned.motion, planned.frames)}"
    if planned.fit is None:
        picture = (
            f"[{source}]{rate}{fill},"
            f"scale={width}:{height}:flags=lanczos,{_sharpen(width, crop.width)}setsar=1,format=yuv420p,"
            f"{timed}[{out}_base]"
        )
    elif planned.letterbox:
        fit_width, fit_height = planned.fit
        picture = (
            f"[{source}]{rate}scale={fit_width}:{fit_height}:flags=lanczos,"
            f"{_sharpen(fit_width, planned.source_width)}setsar=1,format=yuv420p,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,{timed}[{out}_base]"
        )
    else:
        fit_width, fit_height = planned.fit
        blur_width, blur_height = _even(width / BLUR_DOWNSCALE), _even(height / BLUR_DOWNSCALE)
        # boxblur refuses a radius over half the chroma plane's shorter side: small frames get a smaller one.
        radius = max(1, min(BLUR_RADIUS, min(blur_width, blur_height) // 4 - 1))
        picture = ";".join(
            [
                f"[{source}]{rate}format=yuv420p,split=2[{out}_whole][{out}_cover]",
                f"[{out}_cover]{fill},scale={blur_width}:{blur_height}:flags=bilinear,boxblur={radius}:2,"
                f"eq=brightness={BLUR_BRIGHTNESS}:eval=init,scale={width}:{height}:flags=bilinear,setsar=1[{out}_blur]",
                f"[{out}_whole]scale={fit_width}:{fit_height}:flags=lanczos,{_sharpen(fit_width, planned.source_width)}"
                f"setsar=1[{out}_fit]",
                f"[{out}_blur][{out}_fit]overlay=x=(W-w)/2:y=(H-h)/2:format=yuv420,{timed}[{out}_base]",
            ]
        )
    shown = (
        f"[{badge}]format=yuva420p,{repeated_frame_filter(planned.frames, plan.fps)},"
        f"fade=t=in:st=0:d={seconds_text(BADGE_FADE_SEC)}:alpha=1[{out}_badge]"
    )
    stamp = f"[{out}_base][{out}_badge]overlay=x=0:y=0:shortest=1:format=yuv420[{out}]"
    return ";".join([picture, shown, stamp])


def _moving(move: KenBurns, frames: int) -> str:
    return ken_burns_filter(move, first_frame=0, span_frames=frames)


# The card zooms in slowly, as the first of the timeline's moves (the pictures after it take the next ones).
CARD_MOTION = KenBurns.ZOOM_IN


def card_picture_filter(plan: RankingPlan, *, source: str, out: str) -> str:
    """Filter text for the title card: input ``source`` (its PNG, one frame) becomes ``out``, exactly the plan's
    ``card_frames``, zooming in slowly like a still clip."""
    return (
        f"[{source}]{still_frames_filter(plan.size, frames=plan.card_frames, fps=plan.fps)},"
        f"{_moving(CARD_MOTION, plan.card_frames)}[{out}]"
    )


def short_picture_args(
    plan: RankingPlan,
    sources: Sequence[Path],
    badges: Sequence[Path],
    out_path: Path,
    *,
    card: Path | None = None,
    thumbnail: Path | None = None,
) -> list[str]:
    """Encode the short's whole picture in one run; ``sources`` and ``badges`` are per clip, in the plan's
    (countdown) order, and ``card`` is the title card's PNG when the plan opens with one. Video only: the
    soundtrack is encoded beside it (:func:`short_soundtrack_args`).

    With ``thumbnail`` the same run also writes that JPEG: the frame :func:`thumbnail_frame`, taken from the
    filtered picture on its way to the encoder. Taking it from the finished MP4 afterwards would decode it again
    from its last key frame before that point (a second and a half of CPU for a 1080x1920 short) after
    everything else had finished.

    Each video source is read from its trim's start for its window only (``-ss``/``-t`` on the input, audio off);
    a picture is read as its one frame. Each ``xfade`` starts where the next clip's planned start frame is, so the
    pictures meet where their sounds do. H.264 High at the quality every delivered video has (:func:`x264_args`),
    constant-rate, with CAVLC (a short's high rate is where CABAC costs most: :data:`EntropyCoder`).
    """
    if len(sources) != len(plan.clips) or len(badges) != len(plan.clips):
        raise ValueError(f"need a source and a badge per clip, got {len(sources)} and {len(badges)}")
    if (card is None) != (plan.card_frames == 0):
        raise ValueError("a card PNG is needed exactly when the plan opens with a title card")
    args = list(FFMPEG_WRITING)
    chains = []
    for index, planned in enumerate(plan.clips):
        window = planned.window
        if planned.still:
            args += still_input_args(sources[index], plan.fps)
        else:
            args += ["-ss", seconds_text(window.start_sec), "-t", seconds_text(window.duration_sec), "-an"]
            args += ["-i", str(sources[index])]
        # The badge is read at the plan's rate, so its repeated frames are exactly one frame apart.
        args += still_input_args(badges[index], plan.fps)
        chains.append(
            clip_picture_filter(plan, index, source=f"{2 * index}:v:0", badge=f"{2 * index + 1}:v", out=f"c{index}")
        )
    layers = [Layer(f"c{index}", planned.start_frame, planned.frames) for index, planned in enumerate(plan.clips)]
    if card is not None:
        args += still_input_args(card, plan.fps)
        chains.append(card_picture_filter(plan, source=f"{2 * len(plan.clips)}:v", out="card"))
        layers.insert(0, Layer("card", 0, plan.card_frames))
    chains += joining_chains(layers, plan.fps)
    encoded, snapshot = "[picture]", []
    if thumbnail is not None:
        frame = thumbnail_frame(plan)
        encoded = "[encoded]"
        # 4:2:0 is pinned before the split: the JPEG encoder prefers full-range yuvj420p, and without the pin FFmpeg
        # negotiates it up the whole graph, so the blurred backdrops came out full range under limited-range clips
        # and badges (8 levels lighter under a badge's shade), and every frame was converted again for x264.
        chains.append(f"[picture]format=yuv420p,split=2{encoded}[snap]")
        chains.append(f"[snap]trim=start_frame={frame}:end_frame={frame + 1}[thumb]")
        snapshot = ["-map", "[thumb]", "-frames:v", "1", "-q:v", "2", "-update", "1", str(thumbnail)]
    return [
        *args,
        "-filter_complex",
        ";".join(chains),
        "-map",
        encoded,
        "-frames:v",
        str(plan.total_frames),
        *x264_output_args(plan.fps, entropy_coder="cavlc"),
        str(out_path),
        *snapshot,
    ]


@dataclass(frozen=True)
class Layer:
    """A labelled stream in the filter graph that shows frames ``[start, start + frames)`` of the short."""

    label: str
    start: int
    frames: int

    @property
    def end(self) -> int:
        return self.start + self.frames


def joining_chains(layers: Sequence[Layer], fps: int) -> list[str]:
    """Chains joining ``layers`` (in order, each overlapping the next by its transition) into ``[picture]``.

    Each layer is cut by frame into the part it shares with the layer before (head), its own (body) and the part it
    shares with the layer after (tail); a tail and the next head meet in an ``xfade``, and the ``concat`` filter
    strings bodies and transitions together. FFmpeg 5.1's ``xfade`` has no 4:2:0 formats, so a chain of them over
    the whole short converted every frame to 4:4:4 and back (two 1080x1920 conversions a frame); cut this way
    only the transitions' frames are.
    """
    if len(layers) == 1:
        return [f"[{layers[0].label}]null[picture]"]
    overlaps = [before.end - after.start for before, after in pairwise(layers)]
    if any(overlap < 0 for overlap in overlaps):
        raise ValueError(f"layers must meet or overlap, got overlaps {overlaps}")
    heads, tails = [0, *overlaps], [*overlaps, 0]
    chains: list[str] = []
    pieces: list[str] = []
    for layer, head, tail in zip(layers, heads, tails, strict=True):
        if layer.frames - head - tail < 1:
            raise ValueError(f"{layer.label} has {layer.frames} frames, too few for transitions of {head} and {tail}")
        name = layer.label
        cuts = [(f"{name}_head", 0, head), (f"{name}_body", head, layer.frames - tail)]
        cuts.append((f"{name}_tail", layer.frames - tail, layer.frames))
        cuts = [cut for cut in cuts if cut[2] > cut[1]]
        chains.append(f"[{name}]split={len(cuts)}" + "".join(f"[{cut}_all]" for cut, _, _ in cuts))
        chains += [
            f"[{cut}_all]trim=start_frame={start}:end_frame={end},setpts=PTS-STARTPTS[{cut}]"
            for cut, start, end in cuts
        ]
        if head:
            pieces.append(f"{name}_in")
        pieces.append(f"{name}_body")
    for (before, after), overlap in zip(pairwise(layers), overlaps, strict=True):
        if overlap:
            chains.append(
                f"[{before.label}_tail][{after.label}_head]xfade=transition={TRANSITION}"
                f":duration={seconds_text(overlap / fps)}:offset=0,format=yuv420p[{after.label}_in]"
            )
    chains.append("".join(f"[{piece}]" for piece in pieces) + f"concat=n={len(pieces)}:v=1:a=0[picture]")
    return chains


def clip_sound_filter(plan: RankingPlan, index: int, *, source: str | None, out: str) -> str:
    """Filter text for one clip's sound, exactly the samples that span its frames, as ``out``.

    Its own sound (input ``source``, anchored at the trim's start like the picture, so a source whose sound
    starts a little before or after its picture stays in sync), loudness-levelled; or silence when the clip
    has none or the spec mutes it (``source`` is None).
    """
    fit = f"{STEREO_48K},apad,atrim=end_sample={plan.samples(index)},asetpts=PTS-STARTPTS[{out}]"
    if source is None:
        return f"anullsrc=r={AUDIO_SAMPLE_RATE}:cl=stereo,{fit}"
    return (
        f"[{source}]aresample={AUDIO_SAMPLE_RATE}:async=1:first_pts=0,{STEREO_48K},{LOUDNESS_FILTER},"
        f"aresample={AUDIO_SAMPLE_RATE},{fit}"
    )


def short_soundtrack_args(
    plan: RankingPlan,
    sources: Sequence[Path],
    out_path: Path,
    *,
    music_path: Path | None = None,
    music_volume: float = 0.15,
    music_gain_db: float = 0.0,
    announcements: Sequence[tuple[Path, AnnouncementSlot]] = (),
    announcement_levelling: str = "anull",
) -> list[str]:
    """Encode the short's whole soundtrack to AAC in an MP4 audio file, for the final mux to copy.

    Only the clips whose sound is heard are read (their audio alone, trimmed to their window). Neighbouring
    clips overlap by one transition's samples (``acrossfade``), exactly where their pictures blend, so every
    clip's sound stays under its picture. With ``music_path`` the music (opened with ``-stream_loop -1``) is
    laid under the clips and ducked while a clip's own sound plays. ``music_gain_db`` brings the music to the
    published loudness first; ``music_volume`` then sets its level under the clips' sound, and when no clip's
    sound is heard at all the music is the soundtrack and plays at that loudness (a quiet bed at 0.3 under
    nothing played at about -40 dB).

    With ``announcements`` (each WAV and its slot, see :mod:`reelflow.compose.announcements`) the narrated labels
    are laid over all of that, levelled by ``announcement_levelling``, and everything else is ducked under them.
    """
    args = list(FFMPEG_WRITING)
    chains = []
    inputs = 0
    for index, planned in enumerate(plan.clips):
        source = None
        if planned.audio:
            window = planned.window
            args += ["-ss", seconds_text(window.start_sec), "-t", seconds_text(window.duration_sec), "-vn"]
            args += ["-i", str(sources[index])]
            source = f"{inputs}:a:0"
            inputs += 1
        chains.append(clip_sound_filter(plan, index, source=source, out=f"a{index}"))
    layers = [f"a{index}" for index in range(len(plan.clips))]
    if plan.card_frames:
        # The card is silent under its picture; the first clip's sound crossfades in where its picture slides in.
        fit = f"{STEREO_48K},atrim=end_sample={plan.card_samples},asetpts=PTS-STARTPTS[acard]"
        chains.append(f"anullsrc=r={AUDIO_SAMPLE_RATE}:cl=stereo,{fit}")
        layers.insert(0, "acard")
    joined = f"[{layers[0]}]"
    for index, layer in enumerate(layers[1:], start=1):
        following = _JOINED_AUDIO if index == len(layers) - 1 else f"ax{index}"
        chains.append(f"{joined}[{layer}]acrossfade=ns={plan.transition_samples}:c1=tri:c2=tri[{following}]")
        joined = f"[{following}]"
    if len(layers) == 1:
        chains.append(f"{joined}anull[{_JOINED_AUDIO}]")
    bed = "bed" if announcements else "soundtrack"
    if music_path is None:
        chains.append(f"[{_JOINED_AUDIO}]anull[{bed}]")
    else:
        args += ["-stream_loop", "-1", "-i", str(music_path)]
        inputs += 1
        chains.append(
            music_bed_filter(
                voice=_JOINED_AUDIO,
                music=f"{inputs - 1}:a:0",
                out=bed,
                volume=music_volume if plan.has_clip_audio else 1.0,
                total_sec=plan.total_sec,
                duck=plan.has_clip_audio,
                gain_db=music_gain_db,
            )
        )
    if announcements:
        for path, _ in announcements:
            args += ["-i", str(path)]
        chains.append(
            announcements_filter(
                [slot for _, slot in announcements],
                first_input=inputs,
                levelling=announcement_levelling,
                total_sec=plan.total_sec,
            )
        )
        chains.append(voice_over_bed_filter(voice=VOICE_LABEL, bed=bed, out="soundtrack", total_sec=plan.total_sec))
    return [
        *args,
        "-filter_complex",
        ";".join(chains),
        "-map",
        "[soundtrack]",
        *aac_args("stereo"),
        "-t",
        seconds_text(plan.total_sec),
        *PROGRESS_ON_STDOUT,
        "-f",
        "mp4",
        str(out_path),
    ]
