"""Voices a job: every scene of a lesson, or each clip's announcement of a ranking short with a voice; each
piece narrated to S3 with its measured duration."""

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reelflow.contracts import (
    MAX_NARRATION_CHARS,
    LessonSpec,
    RankingSpec,
    RenderNarrated,
    RenderRequested,
    SceneNarration,
    Step,
    Voice,
)
from reelflow.runtime.blobs import BlobStore, work_prefix
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import InvalidScriptError, TtsError
from reelflow.runtime.progress import ProgressReporter
from reelflow.runtime.step_results import record_result, recorded_result, result_key
from reelflow.runtime.voice_catalogue import espeak_catalogue, espeak_voice_for
from reelflow.tts.announcements import ranking_announcements
from reelflow.tts.narration import ESPEAK, narrate_scene
from reelflow.tts.settings import TtsSettings
from reelflow.tts.speech_providers import SpeechProvider, SpeechProviders
from reelflow.tts.spoken_text import spoken_form


def narration_manifest_key(job_id: str, attempt: int) -> str:
    return result_key(job_id, attempt, "narration")


def scene_audio_key(job_id: str, attempt: int, index: int) -> str:
    return f"{work_prefix(job_id, attempt)}audio/{index:03d}.wav"


def announcement_audio_key(job_id: str, attempt: int, rank: int) -> str:
    return f"{work_prefix(job_id, attempt)}audio/rank-{rank:03d}.wav"


@dataclass(frozen=True)
class Piece:
    """One thing to narrate: the id it is reported under, its text as written, and where its WAV is stored."""

    scene_id: str
    text: str
    audio_key: str


@dataclass(frozen=True)
class Pieces:
    """What a job narrates, in order, and what its progress messages call each piece."""

    items: list[Piece]
    noun: str


def validate_lesson(spec: LessonSpec) -> None:
    """Reject what would render badly, naming the scene and the fix."""
    for chapter in spec.script.chapters:
        for scene in chapter.scenes:
            if len(scene.narration) > MAX_NARRATION_CHARS:
                raise InvalidScriptError(
                    f"scene {scene.scene_id}: narration is {len(scene.narration)} characters; "
                    f"split it into scenes of at most {MAX_NARRATION_CHARS}"
                )


async def require_known_voice(voice: Voice, language: str) -> None:
    """Refuse, before anything is spoken, a voice this machine's espeak-ng does not have (naming close ones).

    When espeak-ng cannot even list its voices, narration itself reports the problem. A cloud provider's voice is
    checked by the provider itself, whose refusal names voice.voice.
    """
    if voice.provider != "espeak":
        return
    wanted = espeak_voice_for(language, voice.voice)
    try:
        catalogue = await espeak_catalogue()
    except TtsError:
        return
    if not catalogue.knows(wanted):
        suggestions = ", ".join(catalogue.closest(wanted)) or "see `espeak-ng --voices`"
        raise TtsError(
            f"espeak-ng has no voice {wanted!r} (language {language!r}); use one it has, e.g. {suggestions}",
            retryable=False,
            details={"voice": wanted, "language": language},
        )


def validate_announcements(spec: RankingSpec) -> None:
    """Reject a label too long to announce, naming its clip."""
    for clip in spec.clips:
        if len(clip.label) > MAX_NARRATION_CHARS:
            raise InvalidScriptError(
                f"clip rank {clip.rank}: label is {len(clip.label)} characters; a narrated label takes at most "
                f"{MAX_NARRATION_CHARS}"
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
    if spec.voice is None:
        await progress.report(Step.VALIDATE_SCRIPT, 1.0, "a ranking short without a voice needs no narration")
    else:
        pieces = _pieces_to_narrate(request, spec)
        provider = (providers or SpeechProviders({"espeak": ESPEAK})).provider_for(spec.voice)
        await require_known_voice(spec.voice, spec.language)
        await progress.report(
            Step.VALIDATE_SCRIPT, 1.0, "script is valid" if pieces.noun == "scene" else "labels are valid"
        )
        narration = await _narrate_pieces(
            pieces,
            spec.voice,
            spec.language,
            provider,
            blobs=blobs,
            settings=settings,
            progress=progress,
            cancel=cancel,
        )
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


def _pieces_to_narrate(request: RenderRequested, spec: LessonSpec | RankingSpec) -> Pieces:
    """A lesson's scenes, or a ranking short's announcements (one per clip), validated."""
    job_id, attempt = request.job_id, request.attempt
    if isinstance(spec, LessonSpec):
        validate_lesson(spec)
        scenes = spec.script.scenes()
        return Pieces(
            [
                Piece(scene.scene_id, scene.narration, scene_audio_key(job_id, attempt, i))
                for i, scene in enumerate(scenes)
            ],
            "scene",
        )
    validate_announcements(spec)
    return Pieces(
        [
            Piece(said.scene_id, said.text, announcement_audio_key(job_id, attempt, said.rank))
            for said in ranking_announcements(spec)
        ],
        "label",
    )


async def _narrate_pieces(
    pieces: Pieces,
    voice: Voice,
    language: str,
    provider: SpeechProvider,
    *,
    blobs: BlobStore,
    settings: TtsSettings,
    progress: ProgressReporter,
    cancel: CancelToken,
) -> list[SceneNarration]:
    """Narrate every piece, ``settings.parallel_scenes`` at a time, reported in the order given."""
    items, noun = pieces.items, pieces.noun
    limiter = asyncio.Semaphore(max(1, settings.parallel_scenes))
    done = 0

    async def narrate(index: int, workdir: Path) -> SceneNarration:
        nonlocal done
        piece = items[index]
        async with limiter:
            wav = workdir / f"{index:03d}.wav"
            # Every provider hears the spoken form (119 → 일일구, the lexicon applied); the subtitles keep the
            # text as written.
            duration = await narrate_scene(
                spoken_form(piece.text, language, voice.lexicon),
                voice,
                language,
                wav,
                provider=provider,
                cancel=cancel,
                timeout_sec=settings.scene_timeout_sec,
                trailing_silence_sec=settings.trailing_silence_sec,
            )
            await blobs.put_file(settings.work_bucket, piece.audio_key, wav, "audio/wav")
        done += 1
        await progress.report(Step.GENERATE_TTS, done / len(items), f"narrated {noun} {done}/{len(items)}")
        return SceneNarration(scene_id=piece.scene_id, audio_key=piece.audio_key, duration_sec=duration)

    with tempfile.TemporaryDirectory(prefix="reelflow-tts-") as tmp:
        await progress.report(Step.GENERATE_TTS, 0.0, f"narrating {len(items)} {noun}s")
        return list(await asyncio.gather(*(narrate(i, Path(tmp)) for i in range(len(items)))))
