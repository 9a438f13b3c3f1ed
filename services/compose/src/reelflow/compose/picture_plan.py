"""Which distinct pictures a still-slide lesson shows (a slide with the captions on it) and for how many frames.

A basic lesson's picture only changes where a scene or a caption does, so it is encoded once per distinct
picture and then held (:mod:`reelflow.compose.h264_hold`). The pictures are drawn in one FFmpeg run in
which picture ``k`` occupies its own time slot; their captions are re-timed onto those slots.
"""

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise

from reelflow.compose.subtitles import Cue

# Length of one picture's slot in the drawing run: a whole number of ASS centiseconds, so each caption
# event covers exactly its own slot, and longer than any rounding of a frame's timestamp.
PICTURE_SLOT_SEC = 0.1
# A caption starting within this of a frame's time is on that frame (float noise in cue times).
_FRAME_TIME_EPSILON = 1e-6


@dataclass(frozen=True)
class HeldPicture:
    """One distinct picture: scene ``scene``'s slide with ``captions`` burned on, shown for ``frames`` frames."""

    scene: int
    captions: tuple[str, ...]
    frames: int


def first_frame_from(seconds: float, fps: int) -> int:
    """The first frame whose time (``frame / fps``) is at or after ``seconds``."""
    return max(0, math.ceil(seconds * fps - _FRAME_TIME_EPSILON))


def plan_held_pictures(boundaries: Sequence[int], cues: Sequence[Cue], fps: int) -> list[HeldPicture]:
    """The pictures of a lesson whose scene ``i`` fills frames ``boundaries[i]`` to ``boundaries[i + 1]``.

    A caption is on frame ``f`` when ``start_sec <= f / fps < end_sec``, the rule a subtitle renderer
    applies to each frame's time. A scene change always starts a new picture, even if nothing else changes;
    within a scene, consecutive frames with the same captions are one picture. The frames add up to the
    timeline's.
    """
    if len(boundaries) < 2 or any(end <= start for start, end in pairwise(boundaries)):
        raise ValueError(f"every scene needs at least one frame, got boundaries {list(boundaries)}")
    pictures: list[HeldPicture] = []
    for scene, (scene_start, scene_end) in enumerate(pairwise(boundaries)):
        shown: list[tuple[int, int, str]] = []
        for cue in cues:
            first = max(scene_start, first_frame_from(cue.start_sec, fps))
            stop = min(scene_end, first_frame_from(cue.end_sec, fps))
            if stop > first:
                shown.append((first, stop, cue.text))
        cuts = sorted({scene_start, scene_end, *(f for first, stop, _ in shown for f in (first, stop))})
        for start, end in pairwise(cuts):
            captions = tuple(text for first, stop, text in shown if first <= start and end <= stop)
            last = pictures[-1] if pictures else None
            if last is not None and last.scene == scene and last.captions == captions:
                pictures[-1] = HeldPicture(scene, captions, last.frames + end - start)
            else:
                pictures.append(HeldPicture(scene, captions, end - start))
    return pictures


@dataclass(frozen=True)
class MovingShot:
    """Scene ``scene`` of a still-slide lesson whose backdrop moves (a full-frame picture or a video): its
    ``frames`` are encoded as moving pictures, with its captions burned on them, between the held pictures."""

    scene: int
    frames: int


def plan_pictures_and_shots(
    boundaries: Sequence[int], cues: Sequence[Cue], fps: int, moving: Collection[int]
) -> list[HeldPicture | MovingShot]:
    """:func:`plan_held_pictures`, except that each scene in ``moving`` is one :class:`MovingShot` over all its
    frames; the other scenes keep their held pictures, so only the moving scenes cost a moving encode."""
    planned: list[HeldPicture | MovingShot] = []
    for picture in plan_held_pictures(boundaries, cues, fps):
        if picture.scene not in moving:
            planned.append(picture)
        elif planned and isinstance(last := planned[-1], MovingShot) and last.scene == picture.scene:
            planned[-1] = MovingShot(picture.scene, last.frames + picture.frames)
        else:
            planned.append(MovingShot(picture.scene, picture.frames))
    return planned


def picture_slot_cues(pictures: Sequence[HeldPicture], slot_sec: float = PICTURE_SLOT_SEC) -> list[Cue]:
    """Each picture's captions as cues on its own slot (``k * slot_sec`` to ``(k + 1) * slot_sec``)."""
    return [
        Cue(start_sec=index * slot_sec, end_sec=(index + 1) * slot_sec, text=text)
        for index, picture in enumerate(pictures)
        for text in picture.captions
    ]
