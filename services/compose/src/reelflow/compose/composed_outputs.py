"""A composed video and its sidecars: checked against the plan, then put in scratch and described for storage."""

import asyncio
from dataclasses import dataclass
from pathlib import Path

from reelflow.contracts import ComposedFile, ComposedOutputs, RenderComposed, RenderNarrated
from reelflow.runtime.blobs import BlobStore, sha256_of_file, work_prefix
from reelflow.runtime.failures import RenderError
from reelflow.runtime.media_probe import probe_media
from reelflow.runtime.step_results import result_key

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


def composed_manifest_key(job_id: str, attempt: int) -> str:
    return result_key(job_id, attempt, "composed")


def output_key(job_id: str, attempt: int, name: str) -> str:
    return f"{work_prefix(job_id, attempt)}out/{name}"


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


async def upload_composed(
    narrated: RenderNarrated, files: ComposedFiles, *, blobs: BlobStore, bucket: str
) -> RenderComposed:
    """Put the files in the attempt's scratch folder and describe them; lessons and ranking shorts use the
    same file names, so the storage step treats both alike. Each file's size and SHA-256 go with it, so
    storage copies it inside the store instead of reading it back to hash it."""
    uploads = {
        "video.mp4": (files.video, "video/mp4"),
        "subtitles.srt": (files.subtitles_srt, "application/x-subrip"),
        "subtitles.vtt": (files.subtitles_vtt, "text/vtt"),
        "thumb.jpg": (files.thumbnail, "image/jpeg"),
        "chapters.txt": (files.chapters, "text/plain; charset=utf-8"),
    }
    key = {name: output_key(narrated.job_id, narrated.attempt, name) for name in uploads}
    described: dict[str, ComposedFile] = {}
    for name, (path, content_type) in uploads.items():
        described[key[name]] = await asyncio.to_thread(_describe, path)
        await blobs.put_file(bucket, key[name], path, content_type)
    return RenderComposed(
        job_id=narrated.job_id,
        video_id=narrated.video_id,
        script_id=narrated.script_id,
        attempt=narrated.attempt,
        spec=narrated.spec,
        outputs=ComposedOutputs(
            video=key["video.mp4"],
            thumbnail=key["thumb.jpg"],
            subtitles_srt=key["subtitles.srt"],
            subtitles_vtt=key["subtitles.vtt"],
            chapters=key["chapters.txt"],
            files=described,
        ),
        duration_sec=files.duration_sec,
    )


def _describe(path: Path) -> ComposedFile:
    return ComposedFile(size_bytes=path.stat().st_size, sha256=sha256_of_file(path))
