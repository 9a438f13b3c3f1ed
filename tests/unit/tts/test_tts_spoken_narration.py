"""voice_job narrates each scene's spoken form with the real espeak-ng, and leaves the written narration alone."""

import uuid
from pathlib import Path

from tests.bus_recording import RecordingBus

from reelflow.contracts import Chapter, LessonSpec, RenderRequested, Scene, VideoScript, Voice
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.progress import ProgressReporter
from reelflow.tts.narration import narrate_scene
from reelflow.tts.settings import TtsSettings
from reelflow.tts.voicing import voice_job

SETTINGS = TtsSettings(parallel_scenes=2)


def lesson_request(narrations: list[str], language: str, voice: Voice) -> RenderRequested:
    scenes = [Scene(scene_id=f"s{index}", narration=text) for index, text in enumerate(narrations, start=1)]
    script = VideoScript(chapters=[Chapter(chapter_id="c1", title="Emergencies", scenes=scenes)])
    job_id = f"job-{uuid.uuid4().hex[:8]}"
    return RenderRequested(
        job_id=job_id,
        video_id="video-1",
        script_id="script-1",
        attempt=1,
        spec=LessonSpec(language=language, script=script, voice=voice),
    )


async def narrated_audio(tmp_path: Path, narrations: list[str], language: str, voice: Voice) -> list[bytes]:
    """Runs voice_job on a directory blob store and returns each scene's stored WAV."""
    blobs = DirectoryBlobStore(tmp_path / "blobs")
    await blobs.ensure_buckets(SETTINGS.work_bucket)
    request = lesson_request(narrations, language, voice)
    narrated = await voice_job(
        request,
        blobs=blobs,
        settings=SETTINGS,
        progress=ProgressReporter(RecordingBus(), job_id=request.job_id, attempt=1, min_interval_sec=0),
        cancel=CancelToken(),
    )
    assert isinstance(narrated.spec, LessonSpec)
    # The subtitles are made from the spec's narration: it must stay as the author wrote it.
    assert [scene.narration for scene in narrated.spec.script.scenes()] == narrations
    return [await blobs.get_bytes(SETTINGS.work_bucket, scene.audio_key) for scene in narrated.narration]


async def direct_audio(tmp_path: Path, text: str, language: str) -> bytes:
    wav = tmp_path / f"direct-{uuid.uuid4().hex[:8]}.wav"
    await narrate_scene(text, Voice(), language, wav, trailing_silence_sec=SETTINGS.trailing_silence_sec)
    return wav.read_bytes()


async def test_espeak_ng_says_119_digit_by_digit_while_the_narration_keeps_the_digits(tmp_path: Path) -> None:
    [audio] = await narrated_audio(tmp_path, ["119에 전화하세요."], "ko", Voice())

    assert audio == await direct_audio(tmp_path, "일일구에 전화하세요.", "ko")
    assert audio != await direct_audio(tmp_path, "119에 전화하세요.", "ko")  # espeak-ng alone says 백십구


async def test_the_voices_lexicon_reaches_espeak_ng(tmp_path: Path) -> None:
    voice = Voice(lexicon={"SQL": "sequel"})
    written = ["Learn SQL in 30 min.", "Call 911."]
    audio = await narrated_audio(tmp_path, written, "en", voice)

    assert audio[0] == await direct_audio(tmp_path, "Learn sequel in thirty minutes.", "en")
    assert audio[1] == await direct_audio(tmp_path, "Call nine one one.", "en")
