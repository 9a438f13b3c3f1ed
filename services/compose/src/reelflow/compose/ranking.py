"""Planning a ranking short (countdown order, trims, 9:16 crops, transitions) and its FFmpeg arguments.

The short is made in two passes. Each clip is first *normalised* on its own (trimmed, centre-cropped,
scaled to the frame at a constant frame rate, badge stamped, audio loudness-normalised or silenced, all to
an exact number of frames), so any mix of sizes, aspects and frame rates becomes identical streams that
can be encoded in parallel. Then the normalised clips are *joined* with ``xfade`` and ``acrossfade`` over
the same number of frames/samples, which keeps picture and sound in step, and the music bed is mixed in.
"""

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reelflow.compose.audio_mix import music_bed_filter
from reelflow.compose.ffmpeg import (
    AUDIO_SAMPLE_RATE,
    FFMPEG_WRITING,
    PROGRESS_ON_STDOUT,
    STEREO_48K,
    finished_video_args,
    repeated_frame_filter,
    seconds_text,
    x264_args,
)
from reelflow.compose.loudness import loudnorm_targets
from reelflow.compose.subtitles import ChapterMark, Cue, TimedNarration, chapters_txt, plan_cues
from reelflow.contracts import RankingClip, RankingSpec, frame_size
from reelflow.runtime.failures import MediaInvalidError
from reelflow.runtime.media_probe import MediaInfo

logger = logging.getLogger(__name__)

# Without start/end a clip plays from its beginning for this long (or for all of it when it is shorter).
DEFAULT_CLIP_SEC = 8.0
# A window shorter than this cannot hold a transition in, the badge fade-in and a transition out.
MIN_CLIP_SEC = 1.0
TRANSITION = "slideup"  # the next rank pushes the previous one up and out: reads as "next!" in a countdown
TRANSITION_SEC = 0.4
BADGE_FADE_SEC = 0.4
# Single pass per clip (dynamic mode): clips are short and each keeps its own level, so the measuring pass
# lessons make over the whole narration would buy little here. Same target as lessons.
LOUDNESS_FILTER = f"loudnorm={loudnorm_targets()}"
# Normalised clips are encoded once more when joined, so they are kept near-lossless, and quickly: their
# size on the scratch disk matters far less than the minutes a slower preset would add to every short.
INTERMEDIATE_CRF = 16
INTERMEDIATE_PRESET = "ultrafast"
_JOINED_AUDIO = "clips"
_MIXED_AUDIO = "mixed"


@dataclass(frozen=True)
class ClipMedia:
    """What planning needs to know about one probed clip file."""

    duration_sec: float
    width: int
    height: int
    has_audio: bool


@dataclass(frozen=True)
class TrimWindow:
    """The part of the source clip that is used, in source seconds."""

    start_sec: float
    end_sec: float
    clamped: bool = False  # the requested end lay past the clip's end and was pulled back to it

    @property
    def duration_sec(self) -> float:
        return self.end_sec - self.start_sec


@dataclass(frozen=True)
class CropBox:
    width: int
    height: int
    x: int
    y: int


@dataclass(frozen=True)
class PlannedClip:
    """One clip where it plays in the short: its trim, crop and frames on the joined timeline."""

    clip: RankingClip
    window: TrimWindow
    crop: CropBox
    frames: int
    start_frame: int  # where its transition in begins on the joined timeline (0 for the first clip)
    audio: bool  # its own sound is heard: kept by the spec and present in the file

    @property
    def rank(self) -> int:
        return self.clip.rank


@dataclass(frozen=True)
class RankingPlan:
    size: tuple[int, int]
    fps: int
    transition_frames: int
    clips: tuple[PlannedClip, ...]

    @property
    def total_frames(self) -> int:
        last = self.clips[-1]
        return last.start_frame + last.frames

    @property
    def total_sec(self) -> float:
        return self.total_frames / self.fps

    @property
    def transition_sec(self) -> float:
        return self.transition_frames / self.fps

    def clip_sec(self, index: int) -> float:
        return self.clips[index].frames / self.fps

    def start_sec(self, index: int) -> float:
        return self.clips[index].start_frame / self.fps

    def shown_from_sec(self, index: int) -> float:
        """When a clip takes over the screen: halfway through its transition in."""
        return 0.0 if index == 0 else (self.clips[index].start_frame + self.transition_frames / 2) / self.fps

    def shown_until_sec(self, index: int) -> float:
        return self.total_sec if index == len(self.clips) - 1 else self.shown_from_sec(index + 1)

    def samples(self, index: int) -> int:
        """Audio samples that span exactly the clip's frames."""
        return round(self.clips[index].frames * AUDIO_SAMPLE_RATE / self.fps)

    @property
    def transition_samples(self) -> int:
        return round(self.transition_frames * AUDIO_SAMPLE_RATE / self.fps)

    @property
    def has_clip_audio(self) -> bool:
        return any(planned.audio for planned in self.clips)


def describe_clip(clip: RankingClip) -> str:
    """How errors name a clip: its rank, its label and where it was uploaded."""
    label = f" {clip.label.strip()!r}" if clip.label.strip() else ""
    return f"clip #{clip.rank}{label} ({clip.media_key})"


def countdown_order(clips: Sequence[RankingClip]) -> list[RankingClip]:
    """Highest rank number first, so the short counts down to #1."""
    return sorted(clips, key=lambda clip: clip.rank, reverse=True)


def inspect_clip(clip: RankingClip, info: MediaInfo) -> ClipMedia | str:
    """What planning needs from a probed clip file, or why that file cannot be this clip."""
    video = info.first("video")
    if video is None:
        return "it has no video stream (an audio-only file?)"
    if not video.width or not video.height:
        return "its video stream has no picture size"
    if not math.isfinite(info.duration_sec) or info.duration_sec <= 0:
        return "it lasts 0 s (a still image or an empty recording?)"
    problem = trim_problem(clip, info.duration_sec)
    if problem is not None:
        return problem
    return ClipMedia(
        duration_sec=info.duration_sec,
        width=video.width,
        height=video.height,
        has_audio=info.first("audio") is not None,
    )


def _requested_window(clip: RankingClip, duration_sec: float) -> TrimWindow:
    start = clip.start or 0.0
    if clip.end is not None:
        end = clip.end
    elif clip.start is None:
        end = DEFAULT_CLIP_SEC
    else:
        end = start + DEFAULT_CLIP_SEC
    if end <= duration_sec:
        return TrimWindow(start, end)
    # Only an end the user asked for counts as clamped; the default window simply stops at the clip's end.
    return TrimWindow(start, duration_sec, clamped=clip.end is not None)


def trim_problem(clip: RankingClip, duration_sec: float) -> str | None:
    """Why the clip's start/end cannot be cut from a clip this long, or None when they can."""
    start = clip.start or 0.0
    if start >= duration_sec:
        return f"start {start:g}s is at or past the clip's end ({duration_sec:.2f}s)"
    window = _requested_window(clip, duration_sec)
    if window.duration_sec < MIN_CLIP_SEC:
        return (
            f"the part used ({window.start_sec:g}s to {window.end_sec:.2f}s) is shorter than {MIN_CLIP_SEC:g}s; "
            "a ranking clip must show for at least that long"
        )
    return None


def trim_window(clip: RankingClip, duration_sec: float) -> TrimWindow:
    """The part of the clip that plays.

    - no start/end: from 0 for :data:`DEFAULT_CLIP_SEC`, or the whole clip when it is shorter;
    - start only: :data:`DEFAULT_CLIP_SEC` from start, or up to the clip's end;
    - end past the clip's end: clamped to the clip's end (``clamped`` is set and a warning logged).

    Call :func:`trim_problem` first: a window it rejects raises :class:`ValueError` here.
    """
    problem = trim_problem(clip, duration_sec)
    if problem is not None:
        raise ValueError(f"{describe_clip(clip)}: {problem}")
    window = _requested_window(clip, duration_sec)
    if window.clamped:
        logger.warning(
            "%s: end %gs is past the clip's end; using up to %.2fs", describe_clip(clip), clip.end, duration_sec
        )
    return window


def _even_floor(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def centre_crop(width: int, height: int, target: tuple[int, int]) -> CropBox:
    """The largest centred box of ``target``'s aspect inside a ``width``×``height`` frame, in even pixels.

    Even sizes and offsets keep the crop on 4:2:0 chroma sample boundaries.
    """
    target_width, target_height = target
    aspect = target_width / target_height
    if width / height > aspect:
        crop_width, crop_height = _even_floor(height * aspect), _even_floor(height)
    else:
        crop_width, crop_height = _even_floor(width), _even_floor(width / aspect)
    crop_width, crop_height = min(crop_width, _even_floor(width)), min(crop_height, _even_floor(height))
    return CropBox(
        width=crop_width,
        height=crop_height,
        x=(width - crop_width) // 4 * 2,
        y=(height - crop_height) // 4 * 2,
    )


@dataclass(frozen=True)
class InputProblem:
    """Why one input (a clip, or the music when ``clip`` is None) cannot be used."""

    media_key: str
    reason: str
    clip: RankingClip | None = None

    @classmethod
    def of_clip(cls, clip: RankingClip, reason: str) -> "InputProblem":
        return cls(media_key=clip.media_key, reason=reason, clip=clip)

    @classmethod
    def of_music(cls, media_key: str, reason: str) -> "InputProblem":
        return cls(media_key=media_key, reason=reason)

    def describe(self) -> str:
        return describe_clip(self.clip) if self.clip is not None else f"music ({self.media_key})"


def unusable_inputs_error(problems: Sequence[InputProblem]) -> MediaInvalidError:
    """One error listing every unusable input, so the user can fix them all in one go."""
    listed = "; ".join(f"{problem.describe()}: {problem.reason}" for problem in problems)
    noun = "input cannot" if len(problems) == 1 else "inputs cannot"
    return MediaInvalidError(
        f"{len(problems)} ranking {noun} be used: {listed}",
        details={
            "problems": [
                {
                    "media_key": problem.media_key,
                    "rank": problem.clip.rank if problem.clip is not None else None,
                    "label": problem.clip.label if problem.clip is not None else None,
                    "reason": problem.reason,
                }
                for problem in problems
            ]
        },
    )


def plan_ranking(spec: RankingSpec, media: Mapping[int, ClipMedia]) -> RankingPlan:
    """Lay the clips out as a countdown; ``media`` is keyed by rank and must hold every clip.

    Neighbouring clips overlap by one transition, so the short lasts the sum of the clips minus one
    transition per join; every length is a whole number of frames at ``spec.fps``.
    """
    size = frame_size(spec.size)
    ordered = countdown_order(spec.clips)
    transition_frames = round(TRANSITION_SEC * spec.fps) if len(ordered) > 1 else 0
    planned: list[PlannedClip] = []
    start_frame = 0
    for clip in ordered:
        info = media[clip.rank]
        window = trim_window(clip, info.duration_sec)
        frames = max(1, round(window.duration_sec * spec.fps))
        if frames < 2 * transition_frames + 1:
            raise ValueError(f"{describe_clip(clip)}: {frames} frames cannot hold two transitions")
        planned.append(
            PlannedClip(
                clip=clip,
                window=window,
                crop=centre_crop(info.width, info.height, size),
                frames=frames,
                start_frame=start_frame,
                audio=clip.keep_audio and info.has_audio,
            )
        )
        start_frame += frames - transition_frames
    return RankingPlan(size=size, fps=spec.fps, transition_frames=transition_frames, clips=tuple(planned))


def ranking_cues(plan: RankingPlan) -> list[Cue]:
    """One caption per clip, ``#N label``, while that clip holds the screen."""
    return plan_cues(
        [
            TimedNarration(
                text=_caption(planned.clip),
                start_sec=plan.shown_from_sec(index),
                duration_sec=plan.shown_until_sec(index) - plan.shown_from_sec(index),
            )
            for index, planned in enumerate(plan.clips)
        ],
        frame_size=plan.size,
    )


def ranking_chapters_txt(plan: RankingPlan) -> str:
    """``MM:SS #N label``, one line per clip, even though clips are shorter than YouTube's 10 s chapters:
    in a description the list still reads as the ranking, with a timestamp to jump to each entry."""
    marks = [
        ChapterMark(title=_caption(planned.clip), start_sec=plan.shown_from_sec(index))
        for index, planned in enumerate(plan.clips)
    ]
    return chapters_txt(marks, total_sec=plan.total_sec, min_chapter_sec=0)


def _caption(clip: RankingClip) -> str:
    return " ".join(f"#{clip.rank} {clip.label}".split())


def normalise_filter(plan: RankingPlan, index: int) -> str:
    """Filtergraph for one clip: input 0 is the trimmed source, input 1 the badge PNG.

    Picture and sound are both anchored at the trim's start (``start_time=0`` / ``first_pts=0``), so a
    source whose audio starts a little before or after its video stays in sync. The picture is brought
    to the plan's frame rate before anything else, padded by repeating its last frame and cut, so a
    source that ends a little early still yields exactly the planned frames. The badge fades in on its
    alpha channel. The audio is the clip's own, loudness-normalised, or silence; either way it is padded
    and cut to the samples that span those frames.
    """
    planned = plan.clips[index]
    width, height = plan.size
    crop = planned.crop
    video = (
        f"[0:v:0]fps={plan.fps}:start_time=0,crop={crop.width}:{crop.height}:{crop.x}:{crop.y},"
        f"scale={width}:{height}:flags=lanczos,setsar=1,format=yuv420p,"
        f"tpad=stop_mode=clone:stop_duration=1,trim=end_frame={planned.frames},setpts=PTS-STARTPTS[base]"
    )
    # The PNG is decoded once and its frame repeated.
    badge = (
        f"[1:v]format=rgba,{repeated_frame_filter(planned.frames, plan.fps)},"
        f"fade=t=in:st=0:d={seconds_text(BADGE_FADE_SEC)}:alpha=1[badge]"
    )
    stamp = "[base][badge]overlay=x=0:y=0:shortest=1:format=auto,format=yuv420p[v]"
    fit = f"{STEREO_48K},apad,atrim=end_sample={plan.samples(index)},asetpts=PTS-STARTPTS[a]"
    if planned.audio:
        audio = f"[0:a:0]aresample={AUDIO_SAMPLE_RATE}:async=1:first_pts=0,{STEREO_48K},{LOUDNESS_FILTER},"
        audio += f"aresample={AUDIO_SAMPLE_RATE},{fit}"
    else:
        audio = f"anullsrc=r={AUDIO_SAMPLE_RATE}:cl=stereo,{fit}"
    return ";".join([video, badge, stamp, audio])


def normalise_args(plan: RankingPlan, index: int, source: Path, badge_png: Path, out_path: Path) -> list[str]:
    """Encode one clip as a normalised intermediate (Matroska, H.264 + PCM: sample-exact, no AAC priming)."""
    planned = plan.clips[index]
    window = seconds_text(planned.window.duration_sec)
    return [
        *FFMPEG_WRITING,
        "-ss",
        seconds_text(planned.window.start_sec),
        "-t",
        window,
        "-i",
        str(source),
        "-i",
        str(badge_png),
        "-filter_complex",
        normalise_filter(plan, index),
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-frames:v",
        str(planned.frames),
        *x264_args(plan.fps, preset=INTERMEDIATE_PRESET, crf=INTERMEDIATE_CRF, profile=None),
        "-c:a",
        "pcm_s16le",
        "-ar",
        str(AUDIO_SAMPLE_RATE),
        "-ac",
        "2",
        *PROGRESS_ON_STDOUT,
        str(out_path),
    ]


def join_filter(plan: RankingPlan, *, music_volume: float | None = None) -> str:
    """Filtergraph joining the normalised clips (inputs 0…N-1, countdown order) into ``[video]``/``[audio]``.

    Each ``xfade`` starts where the next clip's planned start frame is; each ``acrossfade`` overlaps the
    same number of samples, so every clip's sound stays under its picture. With ``music_volume`` the music
    (input N, looped) is laid under the clips and ducked while a clip's own sound plays.
    """
    count = len(plan.clips)
    chains = [f"[{index}:v]fps={plan.fps},setpts=PTS-STARTPTS[v{index}]" for index in range(count)]
    if count == 1:
        chains += ["[v0]null[video]", f"[0:a]anull[{_JOINED_AUDIO}]"]
    else:
        duration = seconds_text(plan.transition_sec)
        video_in, audio_in = "[v0]", "[0:a]"
        for index in range(1, count):
            last = index == count - 1
            video_out = "[video]" if last else f"[vx{index}]"
            audio_out = f"[{_JOINED_AUDIO}]" if last else f"[ax{index}]"
            offset = seconds_text(plan.start_sec(index))
            chains.append(
                f"{video_in}[v{index}]xfade=transition={TRANSITION}:duration={duration}:offset={offset}{video_out}"
            )
            chains.append(f"{audio_in}[{index}:a]acrossfade=ns={plan.transition_samples}:c1=tri:c2=tri{audio_out}")
            video_in, audio_in = video_out, audio_out
    if music_volume is None:
        chains.append(f"[{_JOINED_AUDIO}]anull[audio]")
    else:
        chains.append(
            music_bed_filter(
                voice=_JOINED_AUDIO,
                music=f"{count}:a:0",
                out=_MIXED_AUDIO,
                volume=music_volume,
                total_sec=plan.total_sec,
                duck=plan.has_clip_audio,
            )
        )
        chains.append(f"[{_MIXED_AUDIO}]anull[audio]")
    return ";".join(chains)


def join_args(
    plan: RankingPlan,
    clip_paths: Sequence[Path],
    out_path: Path,
    *,
    music_path: Path | None = None,
    music_volume: float = 0.15,
) -> list[str]:
    """Join the normalised clips into the final MP4 (H.264 High, AAC 48 kHz) of exactly the planned length."""
    if len(clip_paths) != len(plan.clips):
        raise ValueError(f"need one normalised clip per planned clip, got {len(clip_paths)} for {len(plan.clips)}")
    args = list(FFMPEG_WRITING)
    for path in clip_paths:
        args += ["-i", str(path)]
    if music_path is not None:
        args += ["-stream_loop", "-1", "-i", str(music_path)]
    return [
        *args,
        "-filter_complex",
        join_filter(plan, music_volume=music_volume if music_path is not None else None),
        "-map",
        "[video]",
        "-map",
        "[audio]",
        *x264_args(plan.fps),
        *finished_video_args(plan.total_sec, out_path),
    ]


def thumbnail_time_sec(plan: RankingPlan) -> float:
    """Into the #1 clip's own file: its middle, and never before its badge has faded in."""
    winner = plan.clips[-1]
    return min((winner.frames - 1) / plan.fps, max(winner.frames / plan.fps / 2, BADGE_FADE_SEC + 0.1))


def thumbnail_args(normalised_winner: Path, at_sec: float, out_path: Path) -> list[str]:
    """One JPEG frame of the #1 clip, badge included (taken from its normalised file)."""
    return [
        *FFMPEG_WRITING,
        "-ss",
        seconds_text(at_sec),
        "-i",
        str(normalised_winner),
        "-frames:v",
        "1",
        "-q:v",
        "2",
        "-update",
        "1",
        str(out_path),
    ]
