"""Checks the gateway makes before anything happens (voices, uploads, publish targets, script requests) and the
readiness probe's dependency checks."""

import asyncio
import hashlib
import time
from pathlib import Path
from typing import cast

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from reelflow.contracts import MusicTrack, PublishTarget, RankingClip, RankingSpec, RenderDefaults, Voice
from reelflow.gateway.outbox import OutboxRelay
from reelflow.gateway.readiness import DependencyCheck, Readiness, readiness_body
from reelflow.gateway.refusals import InvalidRequestError
from reelflow.gateway.render_checks import RenderChecks, publish_problems, resolved_publish, voice_problems
from reelflow.gateway.render_specs import PUBLISH_NOT_CONFIGURED
from reelflow.gateway.script_commands import NEEDS_TEXT, GenerateScript, ScriptCommands
from reelflow.gateway.settings import GatewaySettings
from reelflow.gateway.store import LedgerStore
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.failures import TtsError
from reelflow.runtime.voice_catalogue import VoiceCatalogue

CATALOGUE = VoiceCatalogue(voices=frozenset({"en-us", "en-gb", "ko", "gmw/en-us"}), variants=frozenset({"f3"}))
MEDIA = "reelflow-media"


def upload(name: str, extension: str = "mp3") -> str:
    return f"uploads/{hashlib.sha256(name.encode()).hexdigest()}.{extension}"


@pytest.mark.parametrize(
    ("voice", "language", "field_problem"),
    [
        (None, "en", None),
        (Voice(voice="en-gb"), "ko", None),
        (Voice(voice="EN-US+f3"), "en", None),
        (Voice(voice="  "), "ko", None),
        (Voice(voice="en-zz"), "en", "espeak-ng has no voice 'en-zz'; use one it has (e.g. en-"),
        (Voice(voice="en-us+nosuch"), "en", "espeak-ng has no voice 'en-us+nosuch'"),
        (None, "xh", "espeak-ng has no voice for the script's language 'xh'; name one in voice.voice"),
    ],
)
def test_a_voice_must_be_one_espeak_has(voice: Voice | None, language: str, field_problem: str | None) -> None:
    problems = voice_problems(CATALOGUE, voice, language, within="render_defaults")
    if field_problem is None:
        assert problems == []
    else:
        [problem] = problems
        assert problem["field"] == "render_defaults.voice.voice"
        assert problem["problem"].startswith(field_problem)


def test_publishing_is_refused_when_no_channel_is_there() -> None:
    assert publish_problems(None, available=False) == []
    assert publish_problems(PublishTarget(title="T"), available=False) == [
        {"field": "publish", "problem": PUBLISH_NOT_CONFIGURED}
    ]
    assert publish_problems(PublishTarget(title="T"), available=True) == []


CHANNEL = "UCchannelOfThisWorkspace"


def test_a_named_channel_must_be_one_the_workspace_connected() -> None:
    named = PublishTarget(title="T", channel_id=CHANNEL)
    assert publish_problems(named, available=False, connected=[CHANNEL]) == []
    for available, connected in ((True, []), (False, []), (False, ["UCanotherChannel"])):
        [problem] = publish_problems(named, available=available, connected=connected, within="spec")
        assert problem["field"] == "spec.publish.channel_id"
        assert problem["problem"].startswith(f"channel {CHANNEL} is not connected to this workspace")
        assert "connect it at /api/channels" in problem["problem"]


def test_no_channel_named_goes_to_the_install_or_the_only_connected_channel() -> None:
    unnamed = PublishTarget(title="T")
    assert publish_problems(unnamed, available=False, connected=[CHANNEL]) == []
    assert publish_problems(unnamed, available=True, connected=[CHANNEL, "UCsecond"]) == []
    [problem] = publish_problems(unnamed, available=False, connected=[CHANNEL, "UCsecond"])
    assert problem["field"] == "publish.channel_id" and "name one in publish.channel_id" in problem["problem"]
    assert "/api/channels" in PUBLISH_NOT_CONFIGURED


def test_the_stored_target_names_its_channel_and_the_jobs_workspace_whatever_the_request_sent() -> None:
    sent = PublishTarget(title="T", workspace_id="someone-elses")
    filled = resolved_publish(sent, available=False, connected=[CHANNEL], workspace_id="ws")
    assert (filled.channel_id, filled.workspace_id) == (CHANNEL, "ws")
    to_install = resolved_publish(sent, available=True, connected=[CHANNEL], workspace_id="ws")
    assert (to_install.channel_id, to_install.workspace_id) == (None, None)
    named = resolved_publish(
        sent.model_copy(update={"channel_id": "UCsecond"}), available=True, connected=[CHANNEL], workspace_id="ws"
    )
    assert (named.channel_id, named.workspace_id) == ("UCsecond", "ws")


async def catalogue() -> VoiceCatalogue:
    return CATALOGUE


@pytest.fixture
def checks(tmp_path: Path) -> RenderChecks:
    blobs = DirectoryBlobStore(tmp_path)
    (tmp_path / MEDIA / "uploads").mkdir(parents=True)
    (tmp_path / MEDIA / upload("song")).write_bytes(b"ID3")
    (tmp_path / MEDIA / upload("cover", "png")).write_bytes(b"\x89PNG")
    return RenderChecks(blobs, MEDIA, voice_catalogue=catalogue)


async def test_a_lesson_render_passes_with_an_uploaded_song_and_a_known_voice(checks: RenderChecks) -> None:
    await checks.lesson(
        voice=Voice(voice="en-gb"), language="en", music=MusicTrack(media_key=upload("song")), publish=None
    )


@pytest.mark.parametrize(
    ("music", "problem"),
    [
        (upload("never-uploaded"), "nothing is stored under this key"),
        ("music/song.mp3", "not a media_key from POST /api/uploads"),
        (upload("cover", "png"), "it is a picture (image/png); music needs sound"),
    ],
)
async def test_music_must_be_an_upload_with_sound(checks: RenderChecks, music: str, problem: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        await checks.lesson(voice=None, language="en", music=MusicTrack(media_key=music), publish=None, within="x")
    [found] = refused.value.details["problems"]
    assert found["field"] == "x.music.media_key" and problem in found["problem"]


async def test_the_voice_and_publish_are_named_together_before_any_upload_is_looked_up(checks: RenderChecks) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        await checks.lesson(
            voice=Voice(voice="nope"),
            language="en",
            music=MusicTrack(media_key=upload("never-uploaded")),
            publish=PublishTarget(title="T"),
        )
    assert [p["field"] for p in refused.value.details["problems"]] == ["publish", "voice.voice"]


async def test_a_voice_is_not_refused_when_espeak_cannot_list_its_voices(tmp_path: Path) -> None:
    async def broken() -> VoiceCatalogue:
        raise TtsError("espeak-ng is not installed")

    checks = RenderChecks(DirectoryBlobStore(tmp_path), MEDIA, voice_catalogue=broken)
    await checks.lesson(voice=Voice(voice="anything"), language="en", music=None, publish=None)


async def test_a_ranking_short_asking_to_be_published_is_refused(checks: RenderChecks) -> None:
    spec = RankingSpec(clips=[RankingClip(media_key=upload("clip", "mp4"), rank=1)], publish=PublishTarget(title="T"))
    with pytest.raises(InvalidRequestError, match="publishing to YouTube is not configured"):
        await checks.ranking(spec)


@pytest.mark.parametrize(
    ("voice", "language", "field", "problem"),
    [
        (Voice(voice="nope"), "en", "voice.voice", "espeak-ng has no voice 'nope'"),
        (Voice(), "xh", "voice.voice", "espeak-ng has no voice for the script's language 'xh'"),
        (Voice(provider="google"), "ko", "voice.provider", "has not enabled the 'google' voice provider"),
    ],
)
async def test_a_ranking_short_whose_labels_cannot_be_narrated_is_refused_before_its_uploads_are_looked_up(
    checks: RenderChecks, voice: Voice, language: str, field: str, problem: str
) -> None:
    clip = RankingClip(media_key=upload("never-uploaded", "mp4"), rank=1, label="Winner")
    with pytest.raises(InvalidRequestError) as refused:
        await checks.ranking(RankingSpec(clips=[clip], voice=voice, language=language))
    [found] = refused.value.details["problems"]
    assert found["field"] == field and problem in found["problem"]


async def test_a_ranking_short_narrated_by_a_known_voice_or_not_narrated_passes_the_voice_checks(
    checks: RenderChecks,
) -> None:
    # Only the missing upload is refused: a voice the install has (or none, whatever the language) passes.
    for voice, language in [(Voice(), "ko"), (Voice(voice="en-gb"), "en"), (None, "xh")]:
        spec = RankingSpec(
            clips=[RankingClip(media_key=upload("never-uploaded", "mp4"), rank=1)], voice=voice, language=language
        )
        with pytest.raises(InvalidRequestError) as refused:
            await checks.ranking(spec)
        assert [p["field"] for p in refused.value.details["problems"]] == ["clips.0.media_key"], (voice, language)


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        (GenerateScript(), "source_text", NEEDS_TEXT),
        (GenerateScript(source_text="   \n"), "source_text", NEEDS_TEXT),
        (
            GenerateScript(source_text="x", auto_render=True, render_defaults=RenderDefaults(voice=Voice(voice="q"))),
            "render_defaults.voice.voice",
            "espeak-ng has no voice 'q'",
        ),
        (
            GenerateScript(source_text="x", render_defaults=RenderDefaults(music=MusicTrack(media_key=upload("gone")))),
            "render_defaults.music.media_key",
            "nothing is stored",
        ),
    ],
)
async def test_a_script_request_that_could_not_work_is_refused_before_it_is_recorded(
    checks: RenderChecks, body: GenerateScript, field: str, problem: str
) -> None:
    # Neither the store nor the relay may be reached: a refused request records nothing.
    scripts = ScriptCommands(cast(LedgerStore, None), cast(OutboxRelay, None), checks)
    with pytest.raises(InvalidRequestError) as refused:
        await scripts.request_script("video-1", body)
    [found] = refused.value.details["problems"]
    assert found["field"] == field and problem in found["problem"]


# ---- readiness ------------------------------------------------------------------------------------------------
async def test_dependencies_are_checked_side_by_side_each_within_its_timeout() -> None:
    async def fine() -> None:
        return None

    async def hangs() -> None:
        await asyncio.sleep(60)

    async def fails() -> None:
        raise ConnectionError("refused by http://10.0.0.7:27017")

    readiness = Readiness(
        [DependencyCheck("nats", fine), DependencyCheck("mongo", fails), DependencyCheck("s3", hangs)],
        timeout_sec=0.2,
    )
    started = time.monotonic()
    verdicts = await readiness.verdicts()
    assert time.monotonic() - started < 1.0
    assert verdicts == {"nats": "ok", "mongo": "down: ConnectionError", "s3": "down: no answer within 0.2 s"}
    body, ready = readiness_body(verdicts)
    assert not ready and body["down"] == ["mongo", "s3"] and "10.0.0.7" not in str(body)


async def test_a_check_still_waiting_is_joined_not_started_again() -> None:
    started = 0
    release = asyncio.Event()

    async def slow() -> None:
        nonlocal started
        started += 1
        await release.wait()

    check = DependencyCheck("s3", slow)
    assert (await check.verdict(0.05)).startswith("down")
    assert (await check.verdict(0.05)).startswith("down")
    assert started == 1, "one check at a time, however often the probe asks"
    release.set()
    assert await check.verdict(0.5) == "ok"


def test_the_install_channel_is_assumed_only_without_connected_channels_unless_said() -> None:
    key = SecretStr(Fernet.generate_key().decode())
    assert GatewaySettings(youtube_client_id="id").youtube_install_channel_configured
    assert not GatewaySettings().youtube_install_channel_configured
    assert not GatewaySettings(youtube_client_id="id", channel_token_key=key).youtube_install_channel_configured
    said = GatewaySettings(youtube_client_id="id", channel_token_key=key, youtube_install_channel=True)
    assert said.youtube_install_channel_configured
    unset_in_compose = GatewaySettings.model_validate({"youtube_install_channel": ""})
    assert unset_in_compose.youtube_install_channel is None
