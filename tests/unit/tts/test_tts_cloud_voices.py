"""OpenAI TTS, AWS Polly and Google Cloud TTS, each through its real client library against a local server that
speaks its protocol (tests.fake_speech): a scene is narrated into a WAV ffprobe reads, the request carries the
spoken form, voice, language and rate, and failures are retryable or not as they should be."""

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from tests.bus_recording import RecordingBus
from tests.fake_speech import FakeSpeech
from tests.media_probes import run_tool

from reelflow.contracts import Chapter, ErrorCode, LessonSpec, RenderRequested, Scene, VideoScript, Voice, VoiceProvider
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import JobCanceledError, StepTimeoutError, TtsError
from reelflow.runtime.progress import ProgressReporter
from reelflow.runtime.service import ServiceRuntime
from reelflow.tts.enabled_providers import build_providers, close_providers, process_providers
from reelflow.tts.google_speech import GoogleSpeech
from reelflow.tts.narration import ESPEAK, OUTPUT_SAMPLE_RATE, narrate_scene
from reelflow.tts.openai_speech import OpenAISpeech, pace_instructions
from reelflow.tts.polly_speech import PollySpeech, polly_request
from reelflow.tts.settings import TtsSettings
from reelflow.tts.speech_providers import SpeechProvider, SpeechProviders
from reelflow.tts.voicing import voice_job

TRAILING_SEC = 0.35
SETTINGS = TtsSettings(trailing_silence_sec=TRAILING_SEC)


@dataclass(frozen=True)
class Case:
    name: VoiceProvider
    build: Callable[[str, float], SpeechProvider]
    # (text, voice, language, rate) as the provider's request carried them
    heard: Callable[[dict[str, Any]], tuple[str, str, str | None, float]]
    voice: str
    key_setting: str


def _openai(url: str, timeout: float) -> SpeechProvider:
    return OpenAISpeech(
        api_key="sk-test", base_url=f"{url}/v1", model="gpt-4o-mini-tts", default_voice="alloy", timeout_sec=timeout
    )


def _polly(url: str, timeout: float) -> SpeechProvider:
    return PollySpeech(
        region="ap-northeast-2",
        access_key_id="AKIDTEST",
        secret_access_key="secret",
        endpoint_url=url,
        timeout_sec=timeout,
    )


def _google(url: str, timeout: float) -> SpeechProvider:
    return GoogleSpeech(api_key="test-key", endpoint=url, timeout_sec=timeout)


def _openai_heard(body: dict[str, Any]) -> tuple[str, str, str | None, float]:
    assert body["response_format"] == "pcm"
    assert body["model"] == "gpt-4o-mini-tts"
    assert body["instructions"] == (
        f"Speak at {body['speed']:g} times your normal speaking pace. Speak about 2 semitones higher than your usual "
        "pitch."
    )
    return body["input"], body["voice"], None, body["speed"]


def _polly_heard(body: dict[str, Any]) -> tuple[str, str, str | None, float]:
    assert (body["OutputFormat"], body["SampleRate"], body["TextType"]) == ("pcm", "16000", "ssml")
    assert body["Engine"] == "neural"  # which cannot change pitch: none is asked for
    text: str = body["Text"]
    prefix = '<speak><prosody rate="'
    rate, _, rest = text.removeprefix(prefix).partition('%">')
    return rest.removesuffix("</prosody></speak>"), body["VoiceId"], body["LanguageCode"], int(rate) / 100


def _google_heard(body: dict[str, Any]) -> tuple[str, str, str | None, float]:
    assert body["audioConfig"]["audioEncoding"] == "LINEAR16"
    assert body["audioConfig"]["pitch"] == 2
    voice = body["voice"]
    return body["input"]["text"], voice["name"], voice["languageCode"], body["audioConfig"]["speakingRate"]


CASES = [
    Case("openai", _openai, _openai_heard, "alloy", "REELFLOW_OPENAI_TTS_API_KEY"),
    Case("polly", _polly, _polly_heard, "Seoyeon", "REELFLOW_POLLY_ACCESS_KEY_ID"),
    Case("google", _google, _google_heard, "ko-KR-Neural2-A", "REELFLOW_GOOGLE_TTS_API_KEY"),
]
EXPECTED_LANGUAGE: dict[str, str | None] = {"openai": None, "polly": "ko-KR", "google": "ko-KR"}


@pytest.fixture
def speech() -> Iterator[FakeSpeech]:
    with FakeSpeech() as server:
        yield server


def lesson(narration: str, voice: Voice) -> RenderRequested:
    script = VideoScript(
        chapters=[Chapter(chapter_id="c1", title="응급", scenes=[Scene(scene_id="s1", narration=narration)])]
    )
    return RenderRequested(
        job_id=f"job-{uuid.uuid4().hex[:8]}",
        video_id="video-1",
        script_id="script-1",
        attempt=1,
        spec=LessonSpec(language="ko", script=script, voice=voice),
    )


def probe(path: Path) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads(
        run_tool("ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)).stdout
    )
    return facts


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_a_scene_is_narrated_from_its_spoken_form(case: Case, speech: FakeSpeech, tmp_path: Path) -> None:
    speech.speak(seconds=1.5)
    provider = case.build(speech.url, 10.0)
    blobs = DirectoryBlobStore(tmp_path / "blobs")
    await blobs.ensure_buckets(SETTINGS.work_bucket)
    request = lesson(
        "CPR 후 119에 전화하세요.", Voice(provider=case.name, rate=1.25, pitch=2, lexicon={"CPR": "심폐소생술"})
    )
    try:
        narrated = await voice_job(
            request,
            blobs=blobs,
            settings=SETTINGS,
            progress=ProgressReporter(RecordingBus(), job_id=request.job_id, attempt=1, min_interval_sec=0),
            cancel=CancelToken(),
            providers=SpeechProviders({"espeak": ESPEAK, case.name: provider}),
        )
    finally:
        await provider.aclose()

    [scene] = narrated.narration
    assert scene.duration_sec == pytest.approx(1.5 + TRAILING_SEC, abs=0.01)
    wav = tmp_path / "scene.wav"
    wav.write_bytes(await blobs.get_bytes(SETTINGS.work_bucket, scene.audio_key))
    facts = probe(wav)
    [stream] = facts["streams"]
    assert (stream["codec_name"], int(stream["sample_rate"]), stream["channels"]) == (
        "pcm_s16le",
        OUTPUT_SAMPLE_RATE,
        1,
    )
    assert float(facts["format"]["duration"]) == pytest.approx(1.5 + TRAILING_SEC, abs=0.01)
    [body] = speech.bodies
    # The lexicon and the reading rules apply before any provider hears the text; the subtitles keep the digits.
    assert case.heard(body) == ("심폐소생술 후 일일구에 전화하세요.", case.voice, EXPECTED_LANGUAGE[case.name], 1.25)
    assert isinstance(narrated.spec, LessonSpec)
    assert narrated.spec.script.scenes()[0].narration == "CPR 후 119에 전화하세요."


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_and_server_errors_are_retryable(
    case: Case, status: int, speech: FakeSpeech, tmp_path: Path
) -> None:
    speech.fail(status, "try later")
    provider = case.build(speech.url, 10.0)
    try:
        with pytest.raises(TtsError) as failure:
            await narrate_scene("안녕하세요", Voice(provider=case.name), "ko", tmp_path / "a.wav", provider=provider)
    finally:
        await provider.aclose()
    assert failure.value.retryable
    assert failure.value.code is ErrorCode.TTS_FAILED
    assert len(speech.bodies) == 1  # no client-side retry: the bus redelivers


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_an_unknown_voice_fails_for_good_naming_the_field(case: Case, speech: FakeSpeech, tmp_path: Path) -> None:
    speech.fail(400, "voice is not valid")
    provider = case.build(speech.url, 10.0)
    try:
        with pytest.raises(TtsError) as failure:
            await narrate_scene(
                "안녕", Voice(provider=case.name, voice="Nobody"), "ko", tmp_path / "a.wav", provider=provider
            )
    finally:
        await provider.aclose()
    assert not failure.value.retryable
    assert "voice.voice 'Nobody'" in failure.value.message
    assert "voice is not valid" in failure.value.message


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_a_refused_key_fails_for_good_naming_the_setting(case: Case, speech: FakeSpeech, tmp_path: Path) -> None:
    speech.fail(403, "The security token included in the request is invalid.")
    provider = case.build(speech.url, 10.0)
    try:
        with pytest.raises(TtsError) as failure:
            await narrate_scene("안녕", Voice(provider=case.name), "ko", tmp_path / "a.wav", provider=provider)
    finally:
        await provider.aclose()
    assert not failure.value.retryable
    assert case.key_setting in failure.value.message


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_a_hung_provider_hits_the_timeout(case: Case, speech: FakeSpeech, tmp_path: Path) -> None:
    speech.speak(delay_sec=10.0)
    provider = case.build(speech.url, 0.5)
    started = time.monotonic()
    try:
        with pytest.raises(StepTimeoutError) as failure:
            await narrate_scene(
                "안녕", Voice(provider=case.name), "ko", tmp_path / "a.wav", provider=provider, timeout_sec=0.5
            )
    finally:
        await provider.aclose()
    assert failure.value.retryable
    assert time.monotonic() - started < 5


async def test_a_provider_tts_has_not_enabled_fails_for_good_naming_the_setting(tmp_path: Path) -> None:
    blobs = DirectoryBlobStore(tmp_path / "blobs")
    await blobs.ensure_buckets(SETTINGS.work_bucket)
    request = lesson("안녕하세요", Voice(provider="polly"))
    with pytest.raises(TtsError) as failure:
        await voice_job(
            request,
            blobs=blobs,
            settings=SETTINGS,
            progress=ProgressReporter(RecordingBus(), job_id=request.job_id, attempt=1, min_interval_sec=0),
            cancel=CancelToken(),
            providers=build_providers(SETTINGS),
        )
    assert not failure.value.retryable
    assert "voice.provider 'polly'" in failure.value.message
    assert "REELFLOW_VOICE_PROVIDERS" in failure.value.message


def test_enabling_a_provider_without_its_key_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="REELFLOW_OPENAI_TTS_API_KEY"):
        TtsSettings(voice_providers=["espeak", "openai"])
    with pytest.raises(ValueError, match="REELFLOW_GOOGLE_TTS_API_KEY"):
        TtsSettings(voice_providers=["google"])
    enabled = TtsSettings(voice_providers='["polly", "openai"]', openai_tts_api_key="sk-x")  # type: ignore[arg-type]
    assert build_providers(enabled).enabled == ["espeak", "openai", "polly"]


@pytest.mark.parametrize(
    ("voice", "language", "expected"),
    [
        (Voice(provider="polly"), "ko", {"VoiceId": "Seoyeon", "Engine": "neural", "LanguageCode": "ko-KR"}),
        (Voice(provider="polly"), "en-GB", {"VoiceId": "Amy", "Engine": "neural", "LanguageCode": "en-GB"}),
        (Voice(provider="polly", voice="mizuki"), "ja", {"VoiceId": "Mizuki", "Engine": "standard"}),
        (
            Voice(provider="polly", voice="Zhiyu"),
            "zh",
            {"VoiceId": "Zhiyu", "Engine": "standard", "LanguageCode": "zh-CN"},
        ),
    ],
)
def test_polly_picks_the_voice_and_the_best_engine(voice: Voice, language: str, expected: dict[str, str]) -> None:
    request = polly_request("x", voice, language)
    assert {key: request.get(key) for key in expected} == expected
    assert (request["Text"], request["TextType"]) == ("x", "text")


async def test_the_process_keeps_one_set_of_providers_until_its_settings_change() -> None:
    runtime = cast(ServiceRuntime[TtsSettings], SimpleNamespace(extras={}, settings=SETTINGS))
    first = await process_providers(runtime)
    assert await process_providers(runtime) is first
    runtime.settings = TtsSettings(voice_providers=["openai"], openai_tts_api_key="sk-x")  # type: ignore[arg-type]
    second = await process_providers(runtime)
    assert second is not first
    assert second.enabled == ["espeak", "openai"]
    await close_providers(runtime)
    assert runtime.extras == {}


def test_polly_asks_for_pitch_on_the_standard_engine_only() -> None:
    standard = polly_request("a < b", Voice(provider="polly", voice="Mizuki", pitch=12), "ja")
    assert standard["Text"] == '<speak><prosody pitch="+100%">a &lt; b</prosody></speak>'
    neural = polly_request("a", Voice(provider="polly", pitch=-3, rate=0.75), "ko")
    assert neural["Text"] == '<speak><prosody rate="75%">a</prosody></speak>'


def test_openai_hears_rate_and_pitch_in_words_except_on_tts_1() -> None:
    assert pace_instructions("gpt-4o-mini-tts", 1.0, -1.5) == "Speak about 1.5 semitones lower than your usual pitch."
    assert pace_instructions("gpt-4o-mini-tts", 1.0, 0) is None
    assert pace_instructions("tts-1", 1.5, 3) is None


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_a_cancel_stops_a_request_in_flight(case: Case, speech: FakeSpeech, tmp_path: Path) -> None:
    speech.speak(delay_sec=10.0)
    provider = case.build(speech.url, 5.0)
    cancel = CancelToken()
    asyncio.get_running_loop().call_later(0.3, cancel.cancel)
    started = time.monotonic()
    try:
        with pytest.raises(JobCanceledError):
            await narrate_scene(
                "안녕", Voice(provider=case.name), "ko", tmp_path / "a.wav", provider=provider, cancel=cancel
            )
        assert time.monotonic() - started < 3
        with pytest.raises(JobCanceledError):  # an attempt already canceled sends nothing
            await narrate_scene(
                "안녕", Voice(provider=case.name), "ko", tmp_path / "b.wav", provider=provider, cancel=cancel
            )
    finally:
        await provider.aclose()
    assert len(speech.bodies) == 1
