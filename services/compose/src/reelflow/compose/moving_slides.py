"""Animated lessons' moving slides, drawn here and piped to FFmpeg as raw 4:2:0 frames.

FFmpeg's ``perspective`` filter (bicubic, sub-pixel) took about 24 ms of CPU per 720p frame on the bench
machine, two thirds of an animated lesson's encode. Here each slide is brought to 4:2:0 by FFmpeg once, with
the same conversion as every picture (:func:`ffmpeg.picture_format_filter`); each plane is enlarged
:data:`ENLARGEMENT` times with Lanczos once; and every frame samples the enlarged planes with OpenCV's bilinear
``warpAffine`` at the window :func:`motion.window_at` gives: about 5 ms a frame. Measured against an exact
Lanczos resampling of a bench slide, these frames' luma is at 54 dB PSNR where ``perspective``'s was at 50 dB
(bilinear from the slide itself: 42 dB), so the move is as smooth and no softer (bench/README.md). A crossfade
blends two such frames as ``xfade``'s fade did. Burning the subtitles and encoding stay in FFmpeg
(:func:`ffmpeg.drawn_part_args`).

OpenCV and NumPy cost a compose process about 40 MB; :mod:`lesson` imports this module only when an animated
lesson is encoded, so basic lessons and shorts do not carry them.
"""

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from reelflow.compose.ffmpeg import picture_format_filter
from reelflow.compose.motion import MovingSlide, window_at
from reelflow.runtime.failures import RenderError
from reelflow.runtime.processes import run_process

ENLARGEMENT = 3  # 2x measured 50 dB, 3x 54 dB and 4x 55 dB for a little more time per frame
# Each part is drawn on its own thread beside other parts' FFmpeg runs; OpenCV's own worker threads would only
# compete with them for the same cores.
cv2.setNumThreads(1)

Plane = NDArray[np.uint8]


@dataclass(frozen=True)
class EnlargedSlide:
    """A slide's Y, U and V planes, each :data:`ENLARGEMENT` times the size it has in the frame."""

    luma: Plane
    blue: Plane
    red: Plane
    size: tuple[int, int]  # the frame's, width x height

    def planes(self) -> tuple[tuple[Plane, int, int], ...]:
        """Each enlarged plane with the width and height it has in the frame."""
        width, height = self.size
        return ((self.luma, width, height), (self.blue, width // 2, height // 2), (self.red, width // 2, height // 2))


async def enlarged_slide(png: Path, size: tuple[int, int], *, timeout_sec: float) -> EnlargedSlide:
    """Convert ``png`` to the frame's 4:2:0 (one FFmpeg run) and enlarge each plane with Lanczos."""
    width, height = size
    if width % 2 or height % 2:
        raise ValueError(f"4:2:0 frames need an even size, got {width}x{height}")
    converted = await run_process(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", str(png), "-vf", picture_format_filter(size),
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"],
        timeout_sec=timeout_sec,
    )  # fmt: skip
    luma_bytes, chroma_bytes = width * height, width * height // 4
    raw = np.frombuffer(converted.stdout, dtype=np.uint8)
    if raw.size != luma_bytes + 2 * chroma_bytes:
        raise RenderError(f"FFmpeg gave {raw.size} bytes for the {width}x{height} slide {png.name}")
    planes = (
        raw[:luma_bytes].reshape(height, width),
        raw[luma_bytes : luma_bytes + chroma_bytes].reshape(height // 2, width // 2),
        raw[luma_bytes + chroma_bytes :].reshape(height // 2, width // 2),
    )
    luma, blue, red = await asyncio.to_thread(lambda: [_enlarged(plane) for plane in planes])
    return EnlargedSlide(luma=luma, blue=blue, red=red, size=size)


def _enlarged(plane: Plane) -> Plane:
    height, width = plane.shape
    size = (width * ENLARGEMENT, height * ENLARGEMENT)
    return np.asarray(cv2.resize(plane, size, interpolation=cv2.INTER_LANCZOS4), dtype=np.uint8)


def sampling_matrix(zoom: float, centre_x: float, centre_y: float, width: int, height: int) -> NDArray[np.float64]:
    """Where each pixel of a ``width`` x ``height`` frame plane samples the enlarged plane (``WARP_INVERSE_MAP``).

    The window of ``1/zoom`` of the slide centred on (``centre_x``, ``centre_y``) (fractions of its size) fills the
    plane: pixel ``i``, whose centre is at ``i + 0.5``, shows the slide at ``centre_x * width + (i + 0.5 - width
    / 2) / zoom``, which is ``ENLARGEMENT`` times that, less half a pixel, as an index into the enlarged plane.
    """
    scale = ENLARGEMENT / zoom

    def offset(centre: float, length: int) -> float:
        return ENLARGEMENT * (centre * length + (0.5 - length / 2) / zoom) - 0.5

    return np.array([[scale, 0.0, offset(centre_x, width)], [0.0, scale, offset(centre_y, height)]])


def _draw_moved(slide: EnlargedSlide, moving: MovingSlide, index: int, into: Sequence[Plane]) -> None:
    """Frame ``index`` of a part, for one slide: its planes at the window its move has reached, drawn ``into``."""
    zoom, centre_x, centre_y = window_at(moving.move, frame=moving.first_frame + index, span_frames=moving.span_frames)
    for (plane, width, height), target in zip(slide.planes(), into, strict=True):
        cv2.warpAffine(
            plane,
            sampling_matrix(zoom, centre_x, centre_y, width, height),
            (width, height),
            dst=target,
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )


class FrameCanvas:
    """One raw 4:2:0 frame's memory, reused from frame to frame, and its three planes as views into it: OpenCV
    draws straight into them, so no 1.4 MB buffer is allocated (and cleared by the kernel) per 720p frame."""

    def __init__(self, size: tuple[int, int]) -> None:
        width, height = size
        luma, chroma = width * height, width * height // 4
        self.raw = np.empty(luma + 2 * chroma, dtype=np.uint8)
        self.planes = (
            self.raw[:luma].reshape(height, width),
            self.raw[luma : luma + chroma].reshape(height // 2, width // 2),
            self.raw[luma + chroma :].reshape(height // 2, width // 2),
        )


def draw_frame(
    slides: Sequence[tuple[EnlargedSlide, MovingSlide]],
    index: int,
    frames: int,
    canvas: FrameCanvas,
    scratch: FrameCanvas | None = None,
) -> memoryview:
    """Frame ``index`` of a part of ``frames`` frames drawn on ``canvas``: one moving slide, or two crossfading
    (the second drawn on ``scratch``, made here when not given).

    As ``xfade``'s fade, the second slide's share is ``index / frames``: none on the part's first frame.
    """
    if len(slides) not in (1, 2):
        raise ValueError(f"a part shows one slide or crossfades two, got {len(slides)}")
    _draw_moved(*slides[0], index, canvas.planes)
    if len(slides) == 2:
        share = index / frames
        following = scratch or FrameCanvas(slides[1][0].size)
        _draw_moved(*slides[1], index, following.planes)
        for first, second in zip(canvas.planes, following.planes, strict=True):
            cv2.addWeighted(first, 1 - share, second, share, 0, dst=first)
    return canvas.raw.data


def part_frames(slides: Sequence[tuple[EnlargedSlide, MovingSlide]], frames: int) -> Iterator[memoryview]:
    """Every frame of a part, each drawn on the same canvas when the one before has been taken.

    Made to be written to FFmpeg from a worker thread with blocking writes (``run_process``'s streamed stdin): a
    frame is drawn again over as soon as the next one is asked for, so the caller must have written (copied) it by
    then. Drawing the next frame overlaps FFmpeg encoding this one.
    """
    if not slides:
        raise ValueError("a part shows one slide or crossfades two, got none")
    size = slides[0][0].size
    canvas = FrameCanvas(size)
    scratch = FrameCanvas(size) if len(slides) == 2 else None
    for index in range(frames):
        yield draw_frame(slides, index, frames, canvas, scratch)
