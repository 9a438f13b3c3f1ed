"""Voices every scene of a job: validate the script, narrate each scene to S3, report measured durations."""

import asyncio
import tempfile
from pathlib import Path

from reelflow.contracts import (
    MAX_NARRATION_CHARS,
    LessonSpec,
    RenderNarrated,
    RenderRequested,
    SceneNarration,
    Step,
)
from reelflow.runtime.blobs import BlobStore, work_prefix
from reelflow.runtime.bus import ProgressReporter
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import InvalidScriptError, TtsError
from reelflow.runtime.step_results import record_result, recorded_result, result_key
from reelflow.runtime.voice_catalogue import espeak_catalogue, espeak_voice_for
from reelflow.tts.narration import ESPEAK, narrate_scene
from reelflow.tts.settings import TtsSettings
from reelflow.tts.speech_providers import SpeechProvider, SpeechProviders
from reelflow.tts.spoken_text import spoken_form


def narration_manifest_key(job_id: str, attempt: int) -> str:
    return result_key(job_id, attempt, "narration")


def scene_audio_key(job_id: str, attempt: int, index: int) -> str:
    return f"{work_prefix(job_id, attempt)}audio/{index:03d}.wav"


def validate_lesson(spec: LessonSpec) -> None:
    """Reject what would render badly, naming the scene and the fix."""
    for chapter in spec.script.chapters:
        for scene in chapter.scenes:
            if len(scene.narration) > MAX_NARRATION_CHARS:
                raise InvalidScriptError(
                    f"scene {scene.scene_id}: narration is {len(scene.narration)} characters; "
                    f"split it into scenes of at most {MAX_NARRATION_CHARS}"
                )


async def require_known_voice(spec: LessonSpec) -> None:
    """Refuse, before any scene is spoken, a voice this machine's espeak-ng does not have (naming close ones).

    When espeak-ng cannot even list its voices, narration itself reports the problem. A cloud provider's voice is
    checked by the provider itself, whose refusal names voice.voice.
    """
    if spec.voice.provider != "espeak":
        return
    voice = espeak_voice_for(spec.language, spec.voice.voice)
    try:
        catalogue = await espeak_catalogue()
    except TtsError:
        return
    if not catalogue.knows(voice):
        suggestions = ", ".join(catalogue.closest(voice)) or "see `espeak-ng --voices`"
        raise TtsError(
            f"espeak-ng has no voice {voice!r} (language {spec.language!r}); use one it has, e.g. {suggestions}",
            retryable=False,
            details={"voice": voice, "language": spec.language},
        )


async def voice_job(
    request: RenderRequested,
    *,
    blobs: BlobStore,
    settings: TtsSettings,
    progress: ProgressReporter,
    cancel: CancelToken,
    providers: SpeechProviders | None = None,
) -> RenderNarrated:
    """Idempotent: when this attempt's manifest exists the stored result is returned unchanged.

    ``providers`` are the process's enabled speech providers (espeak-ng alone when not given); a job asking for
    another fails for good, naming voice.provider and REELFLOW_VOICE_PROVIDERS.
    """
    bucket = settings.work_bucket
    manifest_key = narration_manifest_key(request.job_id, request.attempt)
    if (recorded := await recorded_result(blobs, bucket, manifest_key, RenderNarrated)) is not None:
        return recorded
    await progress.report(Step.VALIDATE_SCRIPT, 0.0, "checking the script")
    spec = request.spec
    narration: list[SceneNarration] = []
    if isinstance(spec, LessonSpec):
        validate_lesson(spec)
        provider = (providers or SpeechProviders({"espeak": ESPEAK})).provider_for(spec.voice)
        await require_known_voice(spec)
        await progress.report(Step.VALIDATE_SCRIPT, 1.0, "script is valid")
        narration = await _narrate_scenes(
            request, spec, provider, blobs=blobs, settings=settings, progress=progress, cancel=cancel
        )
    else:
        await progress.report(Step.VALIDATE_SCRIPT, 1.0, "ranking clips need no narration")
    narrated = RenderNarrated(
        job_id=request.job_id,
        video_id=request.video_id,
        script_id=request.script_id,
        attempt=request.attempt,
        spec=spec,
        narration=narration,
    )
    await record_result(blobs, bucket, manifest_key, narrated)
    return narrated


async def _narrate_scenes(
    request: RenderRequested,
    spec: LessonSpec,
    provider: SpeechProvider,
    *,
    blobs: BlobStore,
    settings: TtsSettings,
    progress: ProgressReporter,
    cancel: CancelToken,
) -> list[SceneNarration]:
    scenes = spec.script.scenes()
    limiter = asyncio.Semaphore(max(1, settings.parallel_scenes))
    done = 0

    async def narrate(index: int, workdir: Path) -> SceneNarration:
        nonlocal done
        scene = scenes[index]
        async with limiter:
            wav = workdir / f"{index:03d}.wav"
            # Every provider hears the spoken form (119 → 일일구, the lexicon applied); the subtitles keep
            # scene.narration as written.
            duration = await narrate_scene(
                spoken_form(scene.narration, spec.language, spec.voice.lexicon),
                spec.voice,
                spec.language,
                wav,
                provider=provider,
                cancel=cancel,
                timeout_sec=settings.scene_timeout_sec,
                trailing_silence_sec=settings.trailing_silence_sec,
            )
            key = scene_audio_key(request.job_id, request.attempt, index)
            await blobs.put_file(settings.work_bucket, key, wav, "audio/wav")
        done += 1
        await progress.report(Step.GENERATE_TTS, done / len(scenes), f"narrated scene {done}/{len(scenes)}")
        return SceneNarration(scene_id=scene.scene_id, audio_key=key, duration_sec=duration)

    with tempfile.TemporaryDirectory(prefix="reelflow-tts-") as tmp:
        await progress.report(Step.GENERATE_TTS, 0.0, f"narrating {len(scenes)} scenes")
        return list(await asyncio.gather(*(narrate(i, Path(tmp)) for i in range(len(scenes)))))
