"""How the frame timeline is cut into separately encoded parts: one per scene, plus a crossfade at each cut.

The narration timeline never changes: scene ``i`` starts on frame ``boundaries[i]`` whether or not there
are transitions. A crossfade straddles the cut, half in each scene, so each scene's slide is on screen a
little before its narration starts and a little after it ends, and the audio stays in sync. Every part is
encoded on its own (in parallel) and the concat demuxer joins them without re-encoding.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True)
class Shot:
    """The frames during which one scene's slide is visible: its own window plus its share of each crossfade."""

    start: int
    end: int

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Part:
    """Frames ``[start, end)`` encoded as one file: a scene's body (one scene) or a crossfade (two scenes)."""

    start: int
    end: int
    scenes: tuple[int, ...]

    @property
    def frames(self) -> int:
        return self.end - self.start

    @property
    def is_crossfade(self) -> bool:
        return len(self.scenes) == 2


@dataclass(frozen=True)
class PartPlan:
    shots: tuple[Shot, ...]
    parts: tuple[Part, ...]


def plan_parts(boundaries: Sequence[int], transition_frames: int = 0) -> PartPlan:
    """Tile the timeline given by ``boundaries`` (frame index of each scene start, plus the end).

    With ``transition_frames`` > 0 each cut gets a crossfade of that many frames, split as evenly as
    possible around the cut, shrunk where a neighbouring scene is too short: a scene always keeps at least
    one frame of its own, so a part is never empty. A cut whose crossfade would be under two frames stays
    a hard cut.
    """
    if len(boundaries) < 2:
        raise ValueError("a timeline needs at least one scene")
    if transition_frames < 0:
        raise ValueError(f"transition length cannot be negative, got {transition_frames}")
    lengths = [end - start for start, end in pairwise(boundaries)]
    if any(length < 1 for length in lengths):
        raise ValueError(f"every scene needs at least one frame, got {lengths}")
    # before[k] / after[k]: frames of the crossfade at cut k (between scene k and k+1) on each side of it.
    before: list[int] = []
    after: list[int] = []
    for left, right in pairwise(lengths):
        lead = min(transition_frames // 2, (left - 1) // 2)
        tail = min(transition_frames - transition_frames // 2, (right - 1) // 2)
        if lead + tail < 2:
            lead = tail = 0
        before.append(lead)
        after.append(tail)
    scene_count = len(lengths)
    shots = tuple(
        Shot(
            start=boundaries[i] - (before[i - 1] if i > 0 else 0),
            end=boundaries[i + 1] + (after[i] if i < scene_count - 1 else 0),
        )
        for i in range(scene_count)
    )
    parts: list[Part] = []
    for i in range(scene_count):
        body_start = boundaries[i] + (after[i - 1] if i > 0 else 0)
        body_end = boundaries[i + 1] - (before[i] if i < scene_count - 1 else 0)
        parts.append(Part(start=body_start, end=body_end, scenes=(i,)))
        if i < scene_count - 1 and before[i] + after[i] > 0:
            cut = boundaries[i + 1]
            parts.append(Part(start=cut - before[i], end=cut + after[i], scenes=(i, i + 1)))
    return PartPlan(shots=shots, parts=tuple(parts))
