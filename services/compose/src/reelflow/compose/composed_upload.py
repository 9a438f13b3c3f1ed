"""A composed job's files put in the attempt's scratch folder, and described (keys, sizes, sha256) for storage."""

import asyncio
from pathlib import Path

from reelflow.compose.composed_outputs import ComposedFiles
from reelflow.contracts import ComposedFile, ComposedOutputs, RenderComposed, RenderNarrated
from reelflow.runtime.blobs import BlobStore, sha256_of_file, work_prefix
from reelflow.runtime.step_results import result_key


def composed_manifest_key(job_id: str, attempt: int) -> str:
    return result_key(job_id, attempt, "composed")


def output_key(job_id: str, attempt: int, name: str) -> str:
    return f"{work_prefix(job_id, attempt)}out/{name}"


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
