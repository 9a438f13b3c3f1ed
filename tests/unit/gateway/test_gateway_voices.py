"""GET /api/voices lists espeak-ng's voices and the enabled cloud providers' by language; a render request asking for
a voice provider this install has not enabled is refused at submit with a 422 naming voice.provider."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from tests.gateway_auth import as_admin_without_accounts
from tests.media_probes import run_tool

from reelflow.contracts import Voice, VoiceProvider
from reelflow.gateway.api.errors import status_of
from reelflow.gateway.api.routes.voices import voice_directory, voice_samples
from reelflow.gateway.app import build_api
from reelflow.gateway.refusals import InvalidRequestError
from reelflow.gateway.render_checks import RenderChecks
from reelflow.gateway.settings import GatewaySettings
from reelflow.gateway.voice_directory import VoiceDirectory
from reelflow.gateway.voice_samples import VoiceSamples
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.failures import TtsError
from reelflow.runtime.voice_catalogue import VoiceCatalogue, listed_voices, voice_names

LISTING = """Pty Language       Age/Gender VoiceName          File                 Other Languages
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 2  en-us           --/F      English_(America)  gmw/en-US            (en 3)
 5  ko              --/M      Korean             ko
"""
CATALOGUE = VoiceCatalogue(voices=voice_names(LISTING), variants=frozenset(), listed=listed_voices(LISTING))


async def catalogue() -> VoiceCatalogue:
    return CATALOGUE


async def broken_espeak() -> VoiceCatalogue:
    raise TtsError("espeak-ng cannot list its voices")


def api(
    enabled: list[VoiceProvider], directory: VoiceDirectory | None = None, samples: VoiceSamples | None = None
) -> httpx.AsyncClient:
    app = build_api()
    app.state.gateway = SimpleNamespace(settings=GatewaySettings(voice_providers=enabled))
    app.dependency_overrides[voice_directory] = lambda: directory or VoiceDirectory(tuple(enabled), catalogue)
    if samples is not None:
        app.dependency_overrides[voice_samples] = lambda: samples
    as_admin_without_accounts(app)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


@pytest.fixture
async def gateway() -> AsyncIterator[httpx.AsyncClient]:
    async with api(["espeak", "polly"]) as client:
        yield client


async def test_voices_for_a_language_come_from_espeak_and_the_enabled_providers(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/voices", params={"language": "ko"})

    assert response.status_code == 200
    body = response.json()
    assert body["providers"] == ["espeak", "polly"]
    assert [(v["provider"], v["voice"], v["language"]) for v in body["voices"]] == [
        ("espeak", "ko", "ko"),
        ("polly", "Seoyeon", "ko-KR"),
    ]
    assert body["voices"][1]["engines"] == ["neural", "standard"]
    assert body["voices"][0]["name"] == "Korean"


async def test_every_voice_of_a_provider_without_a_language(gateway: httpx.AsyncClient) -> None:
    espeak = (await gateway.get("/api/voices", params={"provider": "espeak"})).json()["voices"]
    assert [(v["voice"], v["gender"]) for v in espeak] == [("en-gb", "male"), ("en-us", "female"), ("ko", "male")]
    british = (await gateway.get("/api/voices", params={"language": "en-GB", "provider": "polly"})).json()["voices"]
    assert {v["voice"] for v in british} == {"Amy", "Brian"}


async def test_a_provider_not_enabled_has_no_voices_listed(gateway: httpx.AsyncClient) -> None:
    body = (await gateway.get("/api/voices", params={"provider": "google"})).json()
    assert body["voices"] == []


async def test_openai_voices_read_any_language() -> None:
    async with api(["openai"]) as client:
        body = (await client.get("/api/voices", params={"language": "ko", "provider": "openai"})).json()
    assert "alloy" in {v["voice"] for v in body["voices"]}
    assert {v["language"] for v in body["voices"]} == {"*"}


@pytest.mark.parametrize("query", [{"language": "korean language"}, {"provider": "azure"}])
async def test_a_bad_filter_is_a_422(gateway: httpx.AsyncClient, query: dict[str, str]) -> None:
    response = await gateway.get("/api/voices", params=query)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"


async def test_cloud_voices_are_listed_while_espeak_cannot_list_its_own() -> None:
    async with api(["google"], VoiceDirectory(("google",), broken_espeak)) as client:
        body = (await client.get("/api/voices", params={"language": "ko"})).json()
    assert body["espeak_listed"] is False
    assert {v["voice"] for v in body["voices"]} >= {"ko-KR-Neural2-A", "ko-KR-Wavenet-A"}


def checks(tmp_path: Path, enabled: frozenset[str]) -> RenderChecks:
    return RenderChecks(DirectoryBlobStore(tmp_path), "media", voice_catalogue=catalogue, voice_providers=enabled)


async def test_a_provider_this_install_has_not_enabled_is_a_422_naming_voice_provider(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        await checks(tmp_path, frozenset({"espeak"})).lesson(
            voice=Voice(provider="openai"), language="ko", music=None, publish=None, within="render_defaults"
        )
    assert status_of(refused.value) == 422
    [problem] = refused.value.details["problems"]
    assert problem["field"] == "render_defaults.voice.provider"
    assert "REELFLOW_VOICE_PROVIDERS" in problem["problem"]
    assert "REELFLOW_OPENAI_TTS_API_KEY" in problem["problem"]


async def test_an_enabled_provider_passes_without_asking_espeak(tmp_path: Path) -> None:
    await checks(tmp_path, frozenset({"espeak", "polly"})).lesson(
        voice=Voice(provider="polly", voice="Seoyeon"), language="ko", music=None, publish=None
    )
    with pytest.raises(InvalidRequestError):  # espeak-ng voices are still checked against the machine's
        await checks(tmp_path, frozenset({"espeak", "polly"})).lesson(
            voice=Voice(voice="Seoyeon"), language="ko", music=None, publish=None
        )


def test_the_gateway_reads_the_enabled_providers_as_a_json_list() -> None:
    settings = GatewaySettings(voice_providers='["polly", "google"]')  # type: ignore[arg-type]
    assert settings.voice_providers == ["polly", "google"]
    assert GatewaySettings().voice_providers == ["espeak"]


class CountingCatalogue:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> VoiceCatalogue:
        self.calls += 1
        return CATALOGUE


async def test_an_espeak_voice_can_be_heard_and_its_sample_is_kept(tmp_path: Path) -> None:
    counted = CountingCatalogue()
    async with api(["espeak"], samples=VoiceSamples(counted)) as client:
        first = await client.get("/api/voices/sample", params={"voice": "ko"})
        again = await client.get("/api/voices/sample", params={"voice": "KO"})

    assert first.status_code == 200
    assert first.headers["content-type"] == "audio/wav"
    wav = tmp_path / "ko.wav"
    wav.write_bytes(first.content)
    facts = json.loads(run_tool("ffprobe", "-v", "error", "-print_format", "json", "-show_format", str(wav)).stdout)
    assert 1.0 < float(facts["format"]["duration"]) < 10.0
    assert again.content == first.content
    assert counted.calls == 1  # the second listen came from memory, without espeak-ng


async def test_a_sample_of_a_voice_espeak_does_not_have_is_a_422() -> None:
    async with api(["espeak"], samples=VoiceSamples(catalogue)) as client:
        response = await client.get("/api/voices/sample", params={"voice": "xx-nobody"})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["problems"][0]["field"] == "voice"


async def test_a_sample_while_espeak_cannot_list_its_voices_is_a_503() -> None:
    async with api(["espeak"], samples=VoiceSamples(broken_espeak)) as client:
        response = await client.get("/api/voices/sample", params={"voice": "ko"})
    assert response.status_code == 503
