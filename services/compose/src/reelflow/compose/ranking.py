"""Planning a ranking short: countdown order, trims, framing, transitions, captions and chapters.

Every clip is trimmed and framed (centre-cropped to the frame, or fitted whole over a blurred copy of itself or
black bars:
see :func:`fits_whole`) at a constant frame rate, to an exact number of frames, so any mix of sizes, aspects
and frame rates lines up on one timeline; neighbouring clips overlap by one transition. A picture is a clip too:
its one frame is framed alike and held for its window with a slow Ken Burns move (:mod:`reelflow.compose.motion`).

A title card (``RankingSpec.title_card``) is not a clip: it is the plan's ``card_frames``, a leading stretch of
the timeline that the first clip overlaps by one transition, as the clips overlap each other. Every clip keeps its
``start_frame`` on the joined timeline, so captions, chapters, announcements, sound and the thumbnail, which all
work from those, follow the card without knowing of it; badges, ranks and sources stay one per clip. How that
timeline is encoded is :mod:`reelflow.compose.short_encoding`.
"""

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reelflow.compose.ffmpeg import AUDIO_SAMPLE_RATE
from reelflow.compose.motion import KenBurns, move_for_scene
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
# ``framing: auto`` fits a clip whole when a crop to the frame would keep less than this share of its picture.
AUTO_FIT_BELOW_KEPT_SHARE = 0.6
# A picture has no length of its own; past this a still, however gently it moves, stops being a ranking entry.
MAX_PICTURE_SEC = 60.0
# The title card is a hook, not a slide: its last TRANSITION_SEC slides into the first clip. Long enough to read a
# short title at a glance, short enough that the countdown starts before a viewer scrolls on.
TITLE_CARD_SEC = 1.5


@dataclass(frozen=True)
class ClipMedia:
    """What planning needs to know about one probed clip file."""

    duration_sec: float  # a picture's: how long it shows (see :func:`picture_seconds`)
    width: int
    height: int
    has_audio: bool
    still: bool = False  # a picture: one frame, held for its window


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
    start_frame: int  # where its transition in begins on the joined timeline (0 for the first clip, unless a card)
    audio: bool  # its own sound is heard: kept by the spec and present in the file
    fit: tuple[int, int] | None = None  # fitted whole at this size over a blurred fill, instead of cropped
    letterbox: bool = False  # a fitted clip sits on black bars instead of its blurred fill
    source_width: int = 0  # the clip's picture width as decoded (after its rotation)
    motion: KenBurns | None = None  # a picture's slow move while it holds still; None for a video clip

    @property
    def still(self) -> bool:
        return self.motion is not None

    @property
    def rank(self) -> int:
        return self.clip.rank


@dataclass(frozen=True)
class RankingPlan:
    size: tuple[int, int]
    fps: int
    transition_frames: int
    clips: tuple[PlannedClip, ...]
    card_frames: int = 0  # the title card's, from frame 0; 0 for none (the first clip then starts at 0)
    title: str = ""  # the short's title, which the card shows

    @property
    def card_samples(self) -> int:
        return round(self.card_frames * AUDIO_SAMPLE_RATE / self.fps)

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
        """When a clip takes over the screen: halfway through its transition in (the first clip, with no card before
        it, from the start)."""
        if index == 0 and not self.card_frames:
            return 0.0
        return (self.clips[index].start_frame + self.transition_frames / 2) / self.fps

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


def is_still_image(info: MediaInfo) -> bool:
    """Whether ffprobe read the file as one still picture (PNG, JPEG, WebP…), not as a video that lasts 0 s.

    FFmpeg reads a single image with its image demuxers, ``png_pipe``, ``jpeg_pipe``, ``webp_pipe`` (all
    ``*_pipe``), or ``image2`` for a numbered sequence; such a file has one frame and no duration.
    """
    return info.first("video") is not None and (info.format_name.endswith("_pipe") or info.format_name == "image2")


def picture_seconds(clip: RankingClip) -> float:
    """How long a picture shows: its window's length, ``end - start`` (start 0 when unset), or
    :data:`DEFAULT_CLIP_SEC` without an end. A picture has no time of its own to start into."""
    return clip.end - (clip.start or 0.0) if clip.end is not None else DEFAULT_CLIP_SEC


def inspect_clip(clip: RankingClip, info: MediaInfo) -> ClipMedia | str:
    """What planning needs from a probed clip file (a video, or a still picture: :func:`is_still_image`), or why
    that file cannot be this clip."""
    video = info.first("video")
    if video is None:
        return "it has no video stream (an audio-only file?)"
    width, height = video.display_width, video.display_height
    if not width or not height:
        return "its video stream has no picture size"
    if is_still_image(info):
        seconds = picture_seconds(clip)
        if not MIN_CLIP_SEC <= seconds <= MAX_PICTURE_SEC:
            return (
                f"it is a picture, shown for end - start = {seconds:g}s; a picture shows for "
                f"{MIN_CLIP_SEC:g} to {MAX_PICTURE_SEC:g}s"
            )
        return ClipMedia(duration_sec=seconds, width=width, height=height, has_audio=False, still=True)
    if not math.isfinite(info.duration_sec) or info.duration_sec <= 0:
        return "it lasts 0 s (an empty recording?)"
    problem = trim_problem(clip, info.duration_sec)
    if problem is not None:
        return problem
    return ClipMedia(
        duration_sec=info.duration_sec,
        width=width,
        height=height,
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


def fitted_box(width: int, height: int, target: tuple[int, int]) -> tuple[int, int]:
    """The largest even size of a ``width``×``height`` picture that fits inside ``target`` whole."""
    target_width, target_height = target
    scale = min(target_width / width, target_height / height)
    return min(_even_floor(width * scale), target_width), min(_even_floor(height * scale), target_height)


def fits_whole(clip: RankingClip, media: ClipMedia, target: tuple[int, int]) -> bool:
    """Whether ``clip`` is shown whole (``fit``) rather than cropped (``fill``); see ``RankingClip.framing``."""
    if clip.framing != "auto":
        return clip.framing in ("fit", "letterbox")
    crop = centre_crop(media.width, media.height, target)
    return crop.width * crop.height < AUTO_FIT_BELOW_KEPT_SHARE * media.width * media.height


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
    transition per join; every length is a whole number of frames at ``spec.fps``. With ``spec.title_card`` the
    card (:data:`TITLE_CARD_SEC`) comes first and the first clip overlaps it by one transition. A picture's window
    is ``[0, picture_seconds)``; the timeline's entries, card included, cycle through the Ken Burns moves, so two
    neighbouring pictures never move alike.
    """
    size = frame_size(spec.size)
    ordered = countdown_order(spec.clips)
    card_frames = round(TITLE_CARD_SEC * spec.fps) if spec.title_card else 0
    entries = len(ordered) + (1 if card_frames else 0)
    transition_frames = round(TRANSITION_SEC * spec.fps) if entries > 1 else 0
    planned: list[PlannedClip] = []
    start_frame = card_frames - transition_frames if card_frames else 0
    for index, clip in enumerate(ordered):
        info = media[clip.rank]
        window = TrimWindow(0.0, info.duration_sec) if info.still else trim_window(clip, info.duration_sec)
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
                fit=fitted_box(info.width, info.height, size) if fits_whole(clip, info, size) else None,
                letterbox=clip.framing == "letterbox",
                source_width=info.width,
                motion=move_for_scene(index + (1 if card_frames else 0)) if info.still else None,
            )
        )
        start_frame += frames - transition_frames
    return RankingPlan(
        size=size,
        fps=spec.fps,
        transition_frames=transition_frames,
        clips=tuple(planned),
        card_frames=card_frames,
        title=spec.title if card_frames else "",
    )


def ranking_cues(plan: RankingPlan) -> list[Cue]:
    """One caption per clip, ``#N label``, while that clip holds the screen; the title while its card does."""
    card = [TimedNarration(plan.title, 0.0, plan.shown_from_sec(0))] if plan.card_frames else []
    return plan_cues(
        [
            *card,
            *(
                TimedNarration(
                    text=_caption(planned.clip),
                    start_sec=plan.shown_from_sec(index),
                    duration_sec=plan.shown_until_sec(index) - plan.shown_from_sec(index),
                )
                for index, planned in enumerate(plan.clips)
            ),
        ],
        frame_size=plan.size,
    )


def ranking_chapters_txt(plan: RankingPlan) -> str:
    """``MM:SS #N label``, one line per clip, even though clips are shorter than YouTube's 10 s chapters:
    in a description the list still reads as the ranking, with a timestamp to jump to each entry. A title card
    is the first line, at 00:00, under the short's title."""
    marks = [ChapterMark(title=plan.title, start_sec=0.0)] if plan.card_frames else []
    marks += [
        ChapterMark(title=_caption(planned.clip), start_sec=plan.shown_from_sec(index))
        for index, planned in enumerate(plan.clips)
    ]
    return chapters_txt(marks, total_sec=plan.total_sec, min_chapter_sec=0)


def _caption(clip: RankingClip) -> str:
    return " ".join(f"#{clip.rank} {clip.label}".split())


def thumbnail_time_sec(plan: RankingPlan) -> float:
    """How far into the #1 clip its thumbnail is taken: its middle, and never before its badge has faded in."""
    winner = plan.clips[-1]
    return min((winner.frames - 1) / plan.fps, max(winner.frames / plan.fps / 2, BADGE_FADE_SEC + 0.1))


def thumbnail_frame(plan: RankingPlan) -> int:
    """The frame of the joined timeline the thumbnail is: the #1 clip with its badge (:func:`thumbnail_time_sec`)."""
    winner = plan.clips[-1]
    return min(plan.total_frames - 1, winner.start_frame + round(thumbnail_time_sec(plan) * plan.fps))
