"""Ken Burns motion: a slow zoom or pan per scene, rendered with sub-pixel precision.

``zoompan`` (and ``crop``) place the window on whole pixels, so a slow move on a frame-sized slide shakes
by up to a pixel from frame to frame. The window is therefore given in floating-point coordinates, in two forms:
- :func:`window_at`, as numbers, for an animated lesson's slides, which :mod:`moving_slides` draws in Python;
- :func:`ken_burns_filter`, the same window as a ``perspective`` filter (1/256-pixel precision, bicubic), for what
  FFmpeg moves itself: a basic lesson's full-frame picture under still text, and a short's picture clips and title
  card.
"""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

MAX_ZOOM = 1.06  # the slide engineer keeps text at least 7% from every edge, so a 6% crop never cuts it


class KenBurns(StrEnum):
    ZOOM_IN = "zoom-in"
    PAN_RIGHT = "pan-right"  # the window travels left → right
    ZOOM_OUT = "zoom-out"
    PAN_LEFT = "pan-left"  # the window travels right → left


MOVES = tuple(KenBurns)


def move_for_scene(index: int) -> KenBurns:
    """Scenes cycle through the moves so two neighbours never move the same way."""
    return MOVES[index % len(MOVES)]


def _window(move: KenBurns, progress: str) -> tuple[str, str, str]:
    """(zoom, centre x, centre y) of the visible window as expressions; centres are fractions of W and H."""
    grow = f"({MAX_ZOOM - 1:g}*{progress})"
    if move is KenBurns.ZOOM_IN:
        return f"(1+{grow})", "0.5", "0.5"
    if move is KenBurns.ZOOM_OUT:
        return f"({MAX_ZOOM:g}-{grow})", "0.5", "0.5"
    # Pans keep the zoom at its maximum and slide the centre between the two positions that still fit.
    zoom = f"{MAX_ZOOM:g}"
    margin, travel = f"(0.5/{zoom})", f"(1-1/{zoom})"
    if move is KenBurns.PAN_RIGHT:
        return zoom, f"({margin}+{travel}*{progress})", "0.5"
    return zoom, f"(1-{margin}-{travel}*{progress})", "0.5"


def window_at(move: KenBurns, *, frame: int, span_frames: int) -> tuple[float, float, float]:
    """(zoom, centre x, centre y) of the visible window on ``frame`` of a move lasting ``span_frames``, as numbers:
    the same window :func:`ken_burns_filter` gives FFmpeg (centres are fractions of the width and height)."""
    if span_frames < 1 or not 0 <= frame < span_frames:
        raise ValueError(f"frame {frame} is outside a move of {span_frames} frames")
    progress = frame / max(1, span_frames - 1)
    grow = (MAX_ZOOM - 1) * progress
    if move is KenBurns.ZOOM_IN:
        return 1 + grow, 0.5, 0.5
    if move is KenBurns.ZOOM_OUT:
        return MAX_ZOOM - grow, 0.5, 0.5
    margin, travel = 0.5 / MAX_ZOOM, 1 - 1 / MAX_ZOOM
    if move is KenBurns.PAN_RIGHT:
        return MAX_ZOOM, margin + travel * progress, 0.5
    return MAX_ZOOM, 1 - margin - travel * progress, 0.5


def ken_burns_filter(move: KenBurns, *, first_frame: int, span_frames: int) -> str:
    """A ``perspective`` filter that shows frames ``first_frame``… of a move lasting ``span_frames`` frames.

    A scene is rendered in several parts (its body and its share of each crossfade); each part passes its
    own offset into the scene so the motion continues across the joins. Progress runs linearly from 0 on the
    scene's first visible frame to 1 on its last. FFmpeg counts ``perspective``'s ``in`` from 1.
    """
    if span_frames < 1 or not 0 <= first_frame < span_frames:
        raise ValueError(f"frame {first_frame} is outside a move of {span_frames} frames")
    progress = f"((in-1+{first_frame})/{max(1, span_frames - 1)})"
    zoom, centre_x, centre_y = _window(move, progress)
    half = f"(0.5/{zoom})"
    left, right = f"W*({centre_x}-{half})", f"W*({centre_x}+{half})"
    top, bottom = f"H*({centre_y}-{half})", f"H*({centre_y}+{half})"
    corners = {
        "x0": left,
        "y0": top,
        "x1": right,
        "y1": top,
        "x2": left,
        "y2": bottom,
        "x3": right,
        "y3": bottom,
    }
    return (
        "perspective="
        + ":".join(f"{name}={value}" for name, value in corners.items())
        + (":interpolation=cubic:sense=source:eval=frame")
    )


@dataclass(frozen=True)
class MovingSlide:
    """One slide as a part shows it: its move, and where in that move the part's first frame sits."""

    png: Path
    move: KenBurns
    first_frame: int
    span_frames: int

    def motion_filter(self) -> str:
        return ken_burns_filter(self.move, first_frame=self.first_frame, span_frames=self.span_frames)
