"""Decides whether a stored job is published anywhere, and publishes it to YouTube: the video, then its
thumbnail and captions, each recorded once done so that a redelivery or a retry never repeats it."""

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from reelflow.contracts import Asset, AssetKind, PublishTarget, RenderPublished, RenderStored, Step
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import PublishError
from reelflow.runtime.progress import ProgressReporter
from reelflow.runtime.step_results import record_result, recorded_result
from reelflow.uploader.after_upload import insert_captions, set_thumbnail
from reelflow.uploader.channel_credentials import ChannelCredentials
from reelflow.uploader.resumable_upload import upload_video
from reelflow.uploader.settings import UploaderSettings
from reelflow.uploader.upload_records import UploadRecords, published_result_key
from reelflow.uploader.video_settings import VideoSettings, setting_problems, video_settings
from reelflow.uploader.youtube_api import youtube_client
from reelflow.uploader.youtube_calls import RetryPolicy, YouTubeCalls

log = structlog.get_logger("reelflow.uploader")

YOUTUBE = "youtube"
# The video's bytes take the PUBLISH band up to here; the thumbnail and the captions take the rest.
VIDEO_SHARE_OF_PUBLISH = 0.9


def watch_url(video_id: str) -> str:
    """The video's page; for a scheduled release the same URL answers once ``publishAt`` has passed."""
    return f"https://www.youtube.com/watch?v={video_id}"


@dataclass(frozen=True)
class PublishContext:
    """What a publish needs from the process: storage, settings, the channel's grant, progress and cancel."""

    blobs: BlobStore
    settings: UploaderSettings
    channels: ChannelCredentials
    progress: ProgressReporter
    cancel: CancelToken


def assets_by_kind(stored: RenderStored) -> dict[AssetKind, Asset]:
    return {asset.kind: asset for asset in stored.assets}


async def publication_for(stored: RenderStored, context: PublishContext) -> RenderPublished | None:
    """None when the spec names no publish target: the ledger then finalizes the job on ``rf.render.stored``.

    Idempotent per attempt: a finished attempt's ``rf.render.published`` is returned as it was.
    """
    target = stored.spec.publish
    if target is None:
        return None
    settings = context.settings
    result_key = published_result_key(stored.job_id, stored.attempt)
    recorded = await recorded_result(context.blobs, settings.work_bucket, result_key, RenderPublished)
    if recorded is not None:
        return recorded
    video_id = await publish_on_youtube(stored, target, context)
    published = RenderPublished(
        job_id=stored.job_id,
        video_id=stored.video_id,
        script_id=stored.script_id,
        attempt=stored.attempt,
        platform=YOUTUBE,
        external_id=video_id,
        url=watch_url(video_id),
    )
    await record_result(context.blobs, settings.work_bucket, result_key, published)
    return published


async def _text_of(blobs: BlobStore, asset: Asset | None) -> str | None:
    return None if asset is None else (await blobs.get_bytes(asset.bucket, asset.key)).decode("utf-8", "replace")


async def _fetched(blobs: BlobStore, asset: Asset, folder: Path) -> Path:
    local = folder / Path(asset.key).name
    await blobs.get_file(asset.bucket, asset.key, local)
    return local


async def settings_for(stored: RenderStored, target: PublishTarget, context: PublishContext) -> VideoSettings:
    """The video resource to send, or a non-retryable failure naming what YouTube would refuse in it."""
    chapters = await _text_of(context.blobs, assets_by_kind(stored).get(AssetKind.CHAPTERS))
    chosen = video_settings(
        target,
        stored.spec,
        chapters_txt=chapters,
        default_category_id=context.settings.youtube_category_id,
        now=datetime.now(UTC),
    )
    problems = setting_problems(chosen.resource["snippet"])
    if problems:
        raise PublishError(
            f"job {stored.job_id}: spec.publish cannot go to YouTube as it is: {'; '.join(problems)}",
            retryable=False,
        )
    return chosen


async def publish_on_youtube(stored: RenderStored, target: PublishTarget, context: PublishContext) -> str:
    """Upload the job's video (or continue, or reuse, what is recorded), then its thumbnail and captions."""
    settings, blobs, progress = context.settings, context.blobs, context.progress
    assets = assets_by_kind(stored)
    video = assets.get(AssetKind.VIDEO)
    if video is None:
        raise PublishError(f"job {stored.job_id}: rf.render.stored names no video asset to publish", retryable=False)
    chosen = await settings_for(stored, target, context)
    grant = await context.channels.grant_for(stored)
    records = UploadRecords(
        blobs, work_bucket=settings.work_bucket, job_id=stored.job_id, attempt=stored.attempt, video=video
    )
    record = await records.load(video.sha256)
    calls = YouTubeCalls(RetryPolicy.from_settings(settings), context.cancel)
    youtube = await asyncio.to_thread(
        youtube_client,
        grant,
        api_url=settings.youtube_api_url,
        timeout_sec=settings.youtube_timeout_sec,
        ca_bundle=settings.youtube_ca_bundle,
    )

    async def report_bytes(sent: int, size: int) -> None:
        share = VIDEO_SHARE_OF_PUBLISH * sent / size if size else VIDEO_SHARE_OF_PUBLISH
        await progress.report(Step.PUBLISH, share, f"uploading to YouTube: {sent / 1e6:.1f} of {size / 1e6:.1f} MB")

    with tempfile.TemporaryDirectory(prefix="reelflow-uploader-") as folder:
        if record.video_id is None:
            await progress.report(Step.PUBLISH, 0.0, "uploading to YouTube")
            local_video = await _fetched(blobs, video, Path(folder))
            record.video_id = await upload_video(
                youtube,
                local_video,
                chosen.resource,
                record=record,
                records=records,
                calls=calls,
                chunk_bytes=settings.youtube_chunk_bytes,
                on_progress=report_bytes,
            )
            await records.save(record)
            log.info("video uploaded to YouTube", youtube_video_id=record.video_id)
        video_id = record.video_id
        thumbnail = assets.get(AssetKind.THUMBNAIL)
        if thumbnail is not None and not record.thumbnail_set:
            await progress.report(Step.PUBLISH, VIDEO_SHARE_OF_PUBLISH, "setting the YouTube thumbnail")
            await set_thumbnail(youtube, video_id, await _fetched(blobs, thumbnail, Path(folder)), calls)
            record.thumbnail_set = True
            await records.save(record)
        subtitles = assets.get(AssetKind.SUBTITLES_SRT)
        if subtitles is not None and record.captions_id is None and chosen.caption_language:
            await progress.report(Step.PUBLISH, 0.95, "adding the YouTube captions")
            local_srt = await _fetched(blobs, subtitles, Path(folder))
            record.captions_id = await insert_captions(youtube, video_id, local_srt, chosen.caption_language, calls)
            await records.save(record)
    await progress.report(Step.PUBLISH, 1.0, "published on YouTube")
    return video_id
