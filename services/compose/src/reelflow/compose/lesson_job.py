"""A lesson job's own work: pair scenes with their narration, fetch audio and music from the buckets, compose."""

import asyncio
from pathlib import Path, PurePosixPath

from reelflow.compose.brand_font import require_brand_font_covers
from reelflow.compose.composed_outputs import ComposedFiles
from reelflow.compose.fonts import FontSet, brand_font_set
from reelflow.compose.lesson import NarratedScene, compose_lesson
from reelflow.compose.openai_images import OpenAIImages
from reelflow.compose.scene_images import scene_images
from reelflow.compose.settings import ComposeSettings
from reelflow.compose.uploaded_inputs import fetch_upload
from reelflow.contracts import LessonSpec, MusicTrack, RenderNarrated, frame_size
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import InvalidScriptError
from reelflow.runtime.progress import ProgressReporter


def pair_scenes_with_narration(narrated: RenderNarrated, spec: LessonSpec, audio_dir: Path) -> list[NarratedScene]:
    """Script order, each scene with its audio file; a scene without narration is an invalid job."""
    by_scene = {item.scene_id: item for item in narrated.narration}
    paired: list[NarratedScene] = []
    for chapter in spec.script.chapters:
        for scene in chapter.scenes:
            narration = by_scene.get(scene.scene_id)
            if narration is None:
                raise InvalidScriptError(f"scene {scene.scene_id} has no narration in rf.render.narrated")
            audio = audio_dir / f"{len(paired):03d}.wav"
            paired.append(
                NarratedScene(
                    chapter_title=chapter.title, scene=scene, audio_path=audio, duration_sec=narration.duration_sec
                )
            )
    return paired


async def fetch_music(blobs: BlobStore, bucket: str, music: MusicTrack | None, folder: Path) -> Path | None:
    """Download the lesson's background music from the media bucket; a key that is not there fails the job."""
    if music is None:
        return None
    path = folder / f"music{PurePosixPath(music.media_key).suffix}"
    return await fetch_upload(blobs, bucket, music.media_key, path, what="background music")


async def compose_lesson_job(
    narrated: RenderNarrated,
    spec: LessonSpec,
    workdir: Path,
    *,
    blobs: BlobStore,
    settings: ComposeSettings,
    fonts: FontSet,
    progress: ProgressReporter,
    cancel: CancelToken,
) -> ComposedFiles:
    """Fetch the scene narration (and music) into ``workdir``, then compose the lesson there."""
    scenes = pair_scenes_with_narration(narrated, spec, workdir / "audio")
    by_scene = {item.scene_id: item for item in narrated.narration}
    for paired, scene in zip(scenes, spec.script.scenes(), strict=True):
        await blobs.get_file(settings.work_bucket, by_scene[scene.scene_id].audio_key, paired.audio_path)
    music_path = await fetch_music(blobs, settings.media_bucket, spec.music, workdir / "audio")
    provider = OpenAIImages(settings) if settings.images_configured else None
    try:
        images = await scene_images(
            spec.script.scenes(),
            frame_size(spec.size),
            provider=provider,
            blobs=blobs,
            bucket=settings.media_bucket,
            folder=workdir / "visuals",
        )
    finally:
        if provider is not None:
            await provider.aclose()
    logo = slide_fonts = None
    if spec.brand is not None and spec.brand.logo is not None:
        logo_path = workdir / "visuals" / f"logo{PurePosixPath(spec.brand.logo).suffix}"
        logo = await fetch_upload(blobs, settings.media_bucket, spec.brand.logo, logo_path, what="brand.logo")
    if spec.brand is not None and spec.brand.font is not None:
        font_path = workdir / "brand-font" / f"brand{PurePosixPath(spec.brand.font).suffix}"
        font = await fetch_upload(blobs, settings.media_bucket, spec.brand.font, font_path, what="brand.font")
        slide_fonts = await asyncio.to_thread(brand_font_set, font)
        await asyncio.to_thread(require_brand_font_covers, font, spec, media_key=spec.brand.font)
    return await compose_lesson(
        spec,
        scenes,
        workdir / "out",
        fonts=fonts,
        report=progress.report,
        cancel=cancel,
        parallelism=settings.compose_parallelism,
        step_timeout_sec=settings.compose_step_timeout_sec,
        music_path=music_path,
        transition_sec=settings.compose_transition_sec,
        images=images,
        logo=logo,
        slide_fonts=slide_fonts,
    )
