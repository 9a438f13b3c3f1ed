"""Copies a job's composed outputs from scratch into the media bucket, each with its size and sha256.

Compose reports each output's size and SHA-256 (``ComposedOutputs.files``), so an output is copied inside
the store (S3 CopyObject) and never travels through this service; only its size is checked on arrival. An
output compose did not describe is downloaded, hashed and uploaded as before.
"""

import tempfile
from pathlib import Path

from reelflow.contracts import (
    Asset,
    AssetKind,
    ComposedFile,
    LessonSpec,
    RenderComposed,
    RenderStored,
    Step,
    SubtitleMode,
)
from reelflow.runtime.blobs import BlobStore, sha256_of_file, work_prefix
from reelflow.runtime.failures import StorageUploadError
from reelflow.runtime.progress import ProgressReporter
from reelflow.runtime.step_results import record_result, recorded_result, result_key
from reelflow.storage.asset_destinations import AssetDestination
from reelflow.storage.media_keys import ASSET_FILES, asset_key
from reelflow.storage.settings import StorageSettings


def stored_manifest_key(job_id: str, attempt: int) -> str:
    return result_key(job_id, attempt, "stored")


def outputs_to_publish(composed: RenderComposed) -> dict[AssetKind, str]:
    """Scratch key per asset kind. Sidecar subtitles are left out when the spec asks for burned-in only."""
    outputs = composed.outputs
    wanted: dict[AssetKind, str | None] = {
        AssetKind.VIDEO: outputs.video,
        AssetKind.THUMBNAIL: outputs.thumbnail,
        AssetKind.CHAPTERS: outputs.chapters,
        AssetKind.SUBTITLES_SRT: outputs.subtitles_srt,
        AssetKind.SUBTITLES_VTT: outputs.subtitles_vtt,
    }
    spec = composed.spec
    if isinstance(spec, LessonSpec) and spec.subtitles == SubtitleMode.BURN:
        wanted[AssetKind.SUBTITLES_SRT] = wanted[AssetKind.SUBTITLES_VTT] = None
    return {kind: key for kind, key in wanted.items() if key}


async def store_outputs(
    composed: RenderComposed,
    *,
    blobs: BlobStore,
    settings: StorageSettings,
    progress: ProgressReporter,
    destination: AssetDestination,
) -> RenderStored:
    """Idempotent per attempt: a finished attempt's manifest is returned as it was. Each asset is copied into the
    media store, then published to ``destination`` (which may give it a URL of its own)."""
    manifest_key = stored_manifest_key(composed.job_id, composed.attempt)
    recorded = await recorded_result(blobs, settings.work_bucket, manifest_key, RenderStored)
    if recorded is not None:
        return recorded
    wanted = outputs_to_publish(composed)
    assets: list[Asset] = []
    await progress.report(Step.UPLOAD_ASSETS, 0.0, "publishing assets")
    with tempfile.TemporaryDirectory(prefix="reelflow-storage-") as tmp:
        for done, (kind, scratch_key) in enumerate(wanted.items(), start=1):
            key = asset_key(composed.video_id, composed.script_id, composed.job_id, kind)
            described = composed.outputs.files.get(scratch_key)
            if described is not None:
                file = await _copy_described(blobs, settings, scratch_key, key, described)
            else:
                file = await _copy_through(blobs, settings, scratch_key, key, ASSET_FILES[kind], Path(tmp))
            stored_asset = Asset(
                kind=kind,
                bucket=settings.media_bucket,
                key=key,
                size_bytes=file.size_bytes,
                content_type=ASSET_FILES[kind][1],
                sha256=file.sha256,
            )
            assets.append(
                await destination.publish(
                    stored_asset, job_id=composed.job_id, video_id=composed.video_id, script_id=composed.script_id
                )
            )
            await progress.report(Step.UPLOAD_ASSETS, done / len(wanted), f"stored {kind.value}")
    stored = RenderStored(
        job_id=composed.job_id,
        video_id=composed.video_id,
        script_id=composed.script_id,
        attempt=composed.attempt,
        spec=composed.spec,
        assets=assets,
        duration_sec=composed.duration_sec,
    )
    await record_result(blobs, settings.work_bucket, manifest_key, stored)
    return stored


async def _copy_described(
    blobs: BlobStore, settings: StorageSettings, scratch_key: str, key: str, described: ComposedFile
) -> ComposedFile:
    """A server-side copy of an output compose described; compose uploaded it with its final content type."""
    await blobs.copy(settings.work_bucket, scratch_key, settings.media_bucket, key)
    arrived = await blobs.stat(settings.media_bucket, key)
    if arrived is None or arrived.size_bytes != described.size_bytes:
        found = "nothing" if arrived is None else f"{arrived.size_bytes} bytes"
        raise StorageUploadError(
            f"copying {scratch_key} to {settings.media_bucket}/{key} left {found}, "
            f"not the {described.size_bytes} bytes compose wrote"
        )
    return described


async def _copy_through(
    blobs: BlobStore, settings: StorageSettings, scratch_key: str, key: str, name: tuple[str, str], folder: Path
) -> ComposedFile:
    """Download an output nobody described, hash it, and upload it with its content type."""
    file_name, content_type = name
    local = folder / file_name
    await blobs.get_file(settings.work_bucket, scratch_key, local)
    await blobs.put_file(settings.media_bucket, key, local, content_type)
    return ComposedFile(size_bytes=local.stat().st_size, sha256=sha256_of_file(local))


async def clean_scratch(job_id: str, attempt: int, *, blobs: BlobStore, settings: StorageSettings) -> int:
    """Delete a finished attempt's intermediates; the bucket lifecycle rule is only the backstop."""
    return await blobs.delete_prefix(settings.work_bucket, work_prefix(job_id, attempt))
