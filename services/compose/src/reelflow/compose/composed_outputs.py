"""A composed video and its sidecars on local disk, and the check that the video is what was planned."""

from dataclasses import dataclass
from pathlib import Path

from reelflow.runtime.failures import RenderError
from reelflow.runtime.media_probe import probe_media

# The finished file may differ from the planned timeline by AAC priming and container rounding only.
DURATION_TOLERANCE_SEC = 0.1


@dataclass(frozen=True)
class ComposedFiles:
    """What a lesson or a ranking short leaves on local disk once it is composed."""

    video: Path
    subtitles_srt: Path
    subtitles_vtt: Path
    thumbnail: Path
    chapters: Path
    duration_sec: float  # probed from the finished video


async def checked_duration(video: Path, planned_sec: float, *, described_as: str, made_of: str) -> float:
    """The finished video's probed length, once it has both picture and sound and lasts as long as planned.

    ``described_as`` names the video in the error ("video", "ranking short") and ``made_of`` its pieces
    ("scenes", "clips").
    """
    info = await probe_media(video)
    if info.first("video") is None or info.first("audio") is None:
        raise RenderError(f"the composed {described_as} {video.name} is missing its video or audio stream")
    if abs(info.duration_sec - planned_sec) > DURATION_TOLERANCE_SEC:
        raise RenderError(
            f"the composed {described_as} lasts {info.duration_sec:.3f}s but its {made_of} add up to {planned_sec:.3f}s"
        )
    return info.duration_sec
