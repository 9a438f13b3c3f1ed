"""What moves under a slide's still text: a full-frame picture's slow Ken Burns, or a scene's uploaded video.

A scene shown this way is drawn as two layers: the backdrop, which moves, and an overlay picture with the slide's
text (and, over a full-frame backdrop, the darkening that lets light text read on it), which stays still and sharp.
"""

from dataclasses import dataclass
from pathlib import Path

from reelflow.compose.motion import KenBurns

Window = tuple[int, int, int, int]  # left, top, right, bottom in frame pixels


@dataclass(frozen=True)
class PictureBackdrop:
    """A frame-sized still (the picture already covering the frame) moved by ``move``."""

    still: Path
    move: KenBurns


@dataclass(frozen=True)
class VideoBackdrop:
    """A video visual: covering the frame (``window`` None) or fitted into ``window`` on a black frame.

    It plays from ``start_sec`` (its first frame by default) to ``end_sec`` (its end by default) when the scene's
    shot starts. A video shorter than the shot holds its last frame rather than looping: a loop jumps back to the
    start in the middle of a sentence, which reads as a glitch, while a held last frame reads as the clip coming to
    rest, like a picture.
    """

    video: Path
    window: Window | None = None
    start_sec: float = 0.0
    end_sec: float | None = None


@dataclass(frozen=True)
class LayeredShot:
    """One scene's moving backdrop under its still ``overlay`` (an RGBA PNG), as one part shows it: the part's
    first frame is frame ``first_frame`` of the scene's shot, which lasts ``span_frames``."""

    backdrop: PictureBackdrop | VideoBackdrop
    overlay: Path
    first_frame: int
    span_frames: int
