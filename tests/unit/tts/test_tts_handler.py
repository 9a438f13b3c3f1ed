"""The tts service on FastStream's in-memory broker: a render request naming a cloud voice is narrated by that
provider (a local OpenAI TTS fake), and one naming a provider this service has not enabled fails for good.

The handlers' router is a module-level object bound to the last broker that includes it, so this module builds one
runtime and every test shares it (each test uses its own ids).
"""

import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from faststream.nats import TestNatsBroker
from tests.bus_recording import BusRecorder, record_bus
from tests.fake_speech import FakeSpeech

from reelflow.contracts import (
    Chapter,
    ErrorCode,
    LessonSpec,
    RankingClip,
    RankingSpec,
    RenderFailed,
    RenderNarrated,
    RenderRequested,
    Scene,
    VideoScript,
    Voice,
    VoiceProvider,
)
from reelflow.runtime.attempts import InMemoryAttemptStates
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.service import ServiceRuntime, build_runtime
from reelflow.tts.enabled_providers import close_providers
from reelflow.tts.handlers import router
from reelflow.tts.settings import TtsSettings


@dataclass(frozen=True)
class TtsService:
    runtime: ServiceRuntime[TtsSettings]
    recorder: BusRecorder
    speech: FakeSpeech


@pytest.fixture(scope="module")
def tts_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TtsService]:
    with FakeSpeech() as speech:
        settings = TtsSettings(
            voice_providers=["espeak", "openai"],
            openai_tts_api_key="sk-test",  # type: ignore[arg-type]
            openai_tts_base_url=f"{speech.url}/v1",
            openai_tts_voice="nova",
        )
        blobs = DirectoryBlobStore(tmp_path_factory.mktemp("tts-blobs"))
        runtime = build_runtime("tts", settings, router, blobs=blobs, attempts=InMemoryAttemptStates())
        yield TtsService(runtime, record_bus(runtime.broker), speech)


@pytest.fixture
def bus(tts_service: TtsService) -> Iterator[BusRecorder]:
    yield from tts_service.recorder.cleared()


def request(unique_id: str, provider: VoiceProvider) -> RenderRequested:
    scene = Scene(scene_id="s1", narration="112에 신고하세요.")
    return RenderRequested(
        job_id=f"job-{unique_id}",
        video_id=f"video-{unique_id}",
        script_id=f"script-{unique_id}",
        attempt=1,
        spec=LessonSpec(
            language="ko",
            script=VideoScript(chapters=[Chapter(chapter_id="c1", title="신고", scenes=[scene])]),
            voice=Voice(provider=provider),
        ),
    )


async def publish(service: TtsService, message: RenderRequested) -> None:
    await service.runtime.blobs.ensure_buckets(service.runtime.settings.work_bucket)
    async with TestNatsBroker(service.runtime.broker) as broker:
        await broker.publish(message.model_dump(mode="json"), RenderRequested.subject)


async def test_a_job_naming_an_enabled_cloud_voice_is_narrated_by_it(
    tts_service: TtsService, bus: BusRecorder, unique_id: str, tmp_path: Path
) -> None:
    tts_service.speech.speak(seconds=2.0)
    try:
        await publish(tts_service, request(unique_id, "openai"))
    finally:
        await close_providers(tts_service.runtime)

    [message] = bus.on(RenderNarrated.subject)
    [scene] = RenderNarrated.model_validate(message.json()).narration
    assert scene.duration_sec == pytest.approx(2.0 + tts_service.runtime.settings.trailing_silence_sec, abs=0.01)
    [body] = tts_service.speech.bodies
    assert (body["input"], body["voice"]) == ("일일이에 신고하세요.", "nova")
    assert bus.on(RenderFailed.subject) == []


async def test_a_job_naming_a_provider_not_enabled_fails_for_good(
    tts_service: TtsService, bus: BusRecorder, unique_id: str
) -> None:
    await publish(tts_service, request(unique_id, "google"))

    [message] = bus.on(RenderFailed.subject)
    failed = RenderFailed.model_validate(message.json())
    assert failed.error.code is ErrorCode.TTS_FAILED
    assert "REELFLOW_VOICE_PROVIDERS" in failed.error.message
    assert failed.error.details["field"] == "voice.provider"
    assert bus.on(RenderNarrated.subject) == []


def ranking_request(unique_id: str, voice: Voice | None, language: str = "en") -> RenderRequested:
    clips = [
        RankingClip(media_key=f"uploads/{'a' * 64}.mp4", rank=2, label="Red sunset"),
        RankingClip(media_key=f"uploads/{'b' * 64}.mp4", rank=1, label=""),
    ]
    return RenderRequested(
        job_id=f"job-{unique_id}",
        video_id=f"video-{unique_id}",
        attempt=1,
        spec=RankingSpec(clips=clips, voice=voice, language=language),
    )


async def test_a_ranking_short_with_a_voice_has_each_clip_announced_in_its_own_wav(
    tts_service: TtsService, bus: BusRecorder, unique_id: str, tmp_path: Path
) -> None:
    await publish(tts_service, ranking_request(unique_id, Voice()))

    [message] = bus.on(RenderNarrated.subject)
    narration = RenderNarrated.model_validate(message.json()).narration
    assert [item.scene_id for item in narration] == ["rank-2", "rank-1"]
    durations = {}
    for item in narration:
        wav = tmp_path / f"{item.scene_id}.wav"
        await tts_service.runtime.blobs.get_file(tts_service.runtime.settings.work_bucket, item.audio_key, wav)
        with wave.open(str(wav)) as audio:
            durations[item.scene_id] = audio.getnframes() / audio.getframerate()
        assert item.duration_sec == pytest.approx(durations[item.scene_id], abs=0.05)
    # "Number two. Red sunset" takes longer to say than "Number one."
    assert durations["rank-2"] > durations["rank-1"] > 0.5, durations
    assert bus.on(RenderFailed.subject) == []


async def test_a_ranking_short_without_a_voice_is_passed_on_with_no_narration(
    tts_service: TtsService, bus: BusRecorder, unique_id: str
) -> None:
    await publish(tts_service, ranking_request(unique_id, None))

    [message] = bus.on(RenderNarrated.subject)
    assert RenderNarrated.model_validate(message.json()).narration == []


async def test_a_ranking_short_whose_voice_provider_is_not_enabled_fails_for_good(
    tts_service: TtsService, bus: BusRecorder, unique_id: str
) -> None:
    await publish(tts_service, ranking_request(unique_id, Voice(provider="polly")))

    [message] = bus.on(RenderFailed.subject)
    failed = RenderFailed.model_validate(message.json())
    assert failed.error.code is ErrorCode.TTS_FAILED
    assert failed.error.details["field"] == "voice.provider"
    assert bus.on(RenderNarrated.subject) == []


async def test_ranking_labels_are_spoken_in_the_spec_language_by_the_chosen_provider(
    tts_service: TtsService, bus: BusRecorder, unique_id: str
) -> None:
    tts_service.speech.speak(seconds=1.0)
    tts_service.speech.speak(seconds=1.0)
    try:
        await publish(tts_service, ranking_request(unique_id, Voice(provider="openai"), language="ko"))
    finally:
        await close_providers(tts_service.runtime)

    [message] = bus.on(RenderNarrated.subject)
    assert len(RenderNarrated.model_validate(message.json()).narration) == 2
    # The spoken form is what the provider hears: 2위 read as Korean says it.
    assert sorted(body["input"] for body in tts_service.speech.bodies[-2:]) == ["이위. Red sunset", "일위."]
