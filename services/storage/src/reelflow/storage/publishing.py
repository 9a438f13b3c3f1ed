"""Copies a job's composed outputs from scratch into the media bucket, each with its size and sha256."""

import tempfile
from pathlib import Path

from reelflow.contracts import Asset, AssetKind, LessonSpec, RenderComposed, RenderStored, Step, SubtitleMode
from reelflow.runtime.blobs import BlobStore, sha256_of_file, work_prefix
from reelflow.runtime.bus import ProgressReporter
from reelflow.runtime.step_results import record_result, recorded_result, result_key
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
    composed: RenderComposed, *, blobs: BlobStore, settings: StorageSettings, progress: ProgressReporter
) -> RenderStored:
    """Idempotent per attempt: a finished attempt's manifest is returned as it was."""
    manifest_key = stored_manifest_key(composed.job_id, composed.attempt)
    recorded = await recorded_result(blobs, settings.work_bucket, manifest_key, RenderStored)
    if recorded is not None:
        return recorded
    wanted = outputs_to_publish(composed)
    assets: list[Asset] = []
    await progress.report(Step.UPLOAD_ASSETS, 0.0, "publishing assets")
    with tempfile.TemporaryDirectory(prefix="reelflow-storage-") as tmp:
        for done, (kind, scratch_key) in enumerate(wanted.items(), start=1):
            local = Path(tmp) / ASSET_FILES[kind][0]
            await blobs.get_file(settings.work_bucket, scratch_key, local)
            key = asset_key(composed.video_id, composed.script_id, composed.job_id, kind)
            content_type = ASSET_FILES[kind][1]
            await blobs.put_file(settings.media_bucket, key, local, content_type)
            assets.append(
                Asset(
                    kind=kind,
                    bucket=settings.media_bucket,
                    key=key,
                    size_bytes=local.stat().st_size,
                    content_type=content_type,
                    sha256=sha256_of_file(local),
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


async def clean_scratch(job_id: str, attempt: int, *, blobs: BlobStore, settings: StorageSettings) -> int:
    """Delete a finished attempt's intermediates; the bucket lifecycle rule is only the backstop."""
    return await blobs.delete_prefix(settings.work_bucket, work_prefix(job_id, attempt))
