"""The COMPOSE_VIDEO step for any narrated job: answer a redelivery from its manifest, else compose and record.

Lessons and ranking shorts differ only in how their files are made (``lesson_job``, ``ranking_job``); the
idempotency check, the scratch folder, the upload of the outputs and the manifest are the same for both, here.
"""

import tempfile
from pathlib import Path

from reelflow.compose.composed_outputs import ComposedFiles
from reelflow.compose.composed_upload import composed_manifest_key, upload_composed
from reelflow.compose.fonts import FontSet
from reelflow.compose.lesson_job import compose_lesson_job
from reelflow.compose.ranking_job import compose_ranking
from reelflow.compose.settings import ComposeSettings
from reelflow.contracts import LessonSpec, RenderComposed, RenderNarrated, Step
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.progress import ProgressReporter
from reelflow.runtime.step_results import record_result, recorded_result


async def compose_narrated_job(
    narrated: RenderNarrated,
    *,
    blobs: BlobStore,
    settings: ComposeSettings,
    fonts: FontSet,
    progress: ProgressReporter,
    cancel: CancelToken,
) -> RenderComposed:
    """Idempotent per attempt: a finished attempt's manifest is returned as it was."""
    bucket = settings.work_bucket
    manifest_key = composed_manifest_key(narrated.job_id, narrated.attempt)
    if (recorded := await recorded_result(blobs, bucket, manifest_key, RenderComposed)) is not None:
        return recorded
    spec = narrated.spec
    with tempfile.TemporaryDirectory(prefix="reelflow-compose-") as tmp:
        workdir = Path(tmp)
        files: ComposedFiles
        if isinstance(spec, LessonSpec):
            files = await compose_lesson_job(
                narrated, spec, workdir, blobs=blobs, settings=settings, fonts=fonts, progress=progress, cancel=cancel
            )
            done = "video composed"
        else:
            files = await compose_ranking(
                spec,
                workdir,
                blobs=blobs,
                media_bucket=settings.media_bucket,
                fonts=fonts,
                progress=progress,
                cancel=cancel,
                parallelism=settings.compose_parallelism,
                step_timeout_sec=settings.compose_step_timeout_sec,
                narration=narrated.narration,
                work_bucket=bucket,
            )
            done = "ranking short composed"
        composed = await upload_composed(narrated, files, blobs=blobs, bucket=bucket)
        await progress.report(Step.COMPOSE_VIDEO, 1.0, done)
    await record_result(blobs, bucket, manifest_key, composed)
    return composed
