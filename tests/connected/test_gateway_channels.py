"""Connecting YouTube channels through the gateway's routes, on the real MongoDB-wire server and a local fake Google
(``tests.fake_youtube``, over TLS with its own CA): the authorization code flow with PKCE from the authorization URL
to the stored channel, single-use and expiring states, refused consent, a pasted refresh token (and a revoked one),
Google failing, another workspace that can neither see, delete nor publish to the channel, and what a job's spec
stores. Callers are injected per request (``X-Test-Workspace``); authentication itself is tested elsewhere."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI, Request
from pydantic import SecretStr
from pymongo import AsyncMongoClient
from tests.channel_gateway import own_channel_gateway
from tests.fake_youtube import FakeYouTube
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import TINY_LESSON

from reelflow.contracts import PublishTarget, RankingClip, RankingSpec, Voice
from reelflow.gateway.accounts import Caller, CallerKind, Scope
from reelflow.gateway.api.deps import authenticated_caller, channels_of
from reelflow.gateway.api.errors import install_error_handlers
from reelflow.gateway.api.routes import channels as channel_routes
from reelflow.gateway.app import channel_setup, google_http_client
from reelflow.gateway.channel_store import CHANNELS, ChannelStore
from reelflow.gateway.connected_channels import ConnectedChannels
from reelflow.gateway.refusals import InvalidRequestError
from reelflow.gateway.render_checks import RenderChecks
from reelflow.gateway.settings import GatewaySettings
from reelflow.local.servers import StackEndpoints
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.channel_grants import GrantKeyError, GrantSealer, grant_key
from reelflow.runtime.failures import TtsError
from reelflow.runtime.voice_catalogue import VoiceCatalogue

pytestmark = pytest.mark.connected
PUBLIC_BASE_URL = "https://reelflow.example.com"
REDIRECT_URI = f"{PUBLIC_BASE_URL}/api/channels/oauth/callback"
WORK_BUCKET = "reelflow-work"
CHANNEL_A = "UCchannelOfWorkspaceA001"
SCOPES = {
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",
    "https://www.googleapis.com/auth/youtube.readonly",
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def caller_of_test_workspace(request: Request) -> Caller:
    workspace = request.headers.get("x-test-workspace", "ws-a")
    return Caller(CallerKind.API_KEY, f"key-{workspace}", workspace, frozenset(Scope), user_id=f"user-{workspace}")


@dataclass
class Gateway:
    app: FastAPI
    http: httpx.AsyncClient
    channels: ConnectedChannels
    settings: GatewaySettings
    blobs: DirectoryBlobStore
    mongo: AsyncMongoClient[dict[str, Any]]
    database: str
    clock: FakeClock

    def sealer(self) -> GrantSealer:
        sealer = self.settings.grant_sealer()
        assert sealer is not None
        return sealer


@pytest.fixture(scope="module")
def youtube() -> Iterator[FakeYouTube]:
    with FakeYouTube() as running:
        yield running


def settings_for(youtube: FakeYouTube, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "youtube_client_id": youtube.client_id,
        "youtube_client_secret": youtube.client_secret,
        "youtube_token_uri": youtube.token_uri,
        "youtube_auth_uri": f"{youtube.api_url}o/oauth2/v2/auth",
        "youtube_api_url": youtube.api_url,
        "youtube_ca_bundle": youtube.ca_bundle,
        "youtube_timeout_sec": 5,
        "channel_token_key": Fernet.generate_key().decode(),
        "public_base_url": PUBLIC_BASE_URL,
        "work_bucket": WORK_BUCKET,
    }
    return GatewaySettings(**(values | overrides))


@pytest.fixture
async def gateway(
    stack: StackEndpoints, youtube: FakeYouTube, unique_id: str, tmp_path: Path
) -> AsyncIterator[Gateway]:
    youtube.reset()
    settings = settings_for(youtube)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url, tz_aware=True)
    database = f"channels-{unique_id}"
    store = ChannelStore(mongo, database)
    await store.ensure_indexes()
    blobs = DirectoryBlobStore(tmp_path / "buckets")
    await blobs.ensure_buckets(WORK_BUCKET)
    google = google_http_client(settings)
    clock = FakeClock()
    channels = ConnectedChannels(store, channel_setup(settings, blobs, google), clock=clock)
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(channel_routes.router)
    app.dependency_overrides[authenticated_caller] = caller_of_test_workspace
    app.dependency_overrides[channels_of] = lambda: channels
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL) as http:
            yield Gateway(app, http, channels, settings, blobs, mongo, database, clock)
    finally:
        await google.aclose()
        await mongo.close()


async def start(gateway: Gateway, workspace: str = "ws-a") -> tuple[str, dict[str, str]]:
    """POST …/oauth/start; the state and the authorization URL's query."""
    started = await gateway.http.post("/api/channels/oauth/start", headers={"X-Test-Workspace": workspace})
    assert started.status_code == 200, started.text
    body = started.json()
    url = urlsplit(body["authorization_url"])
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert query["state"] == body["state"]
    return body["state"], query


async def connect_with_oauth(
    gateway: Gateway, youtube: FakeYouTube, workspace: str = "ws-a", channel_id: str = CHANNEL_A
) -> httpx.Response:
    state, query = await start(gateway, workspace)
    code = youtube.authorize(
        query["client_id"], query["redirect_uri"], query["code_challenge"], channel_id=channel_id, title="Lessons"
    )
    return await gateway.http.get("/api/channels/oauth/callback", params={"code": code, "state": state})


async def listed(gateway: Gateway, workspace: str = "ws-a") -> list[dict[str, Any]]:
    answer = await gateway.http.get("/api/channels", headers={"X-Test-Workspace": workspace})
    assert answer.status_code == 200, answer.text
    channels: list[dict[str, Any]] = answer.json()
    return channels


# ---- the authorization code flow -------------------------------------------------------------------------------
async def test_the_authorization_url_asks_for_offline_youtube_access_with_pkce(
    gateway: Gateway, youtube: FakeYouTube
) -> None:
    started = await gateway.http.post("/api/channels/oauth/start")
    body = started.json()
    url = urlsplit(body["authorization_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == gateway.settings.youtube_auth_uri
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert query["client_id"] == youtube.client_id
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["response_type"] == "code"
    assert set(query["scope"].split(" ")) == SCOPES
    assert (query["access_type"], query["prompt"], query["include_granted_scopes"]) == ("offline", "consent", "true")
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43 and "=" not in query["code_challenge"]
    assert query["state"] == body["state"] and len(body["state"]) >= 32
    assert body["expires_at"].startswith("2027-01-15T08:")  # the fake clock's now + 10 minutes
    second = (await gateway.http.post("/api/channels/oauth/start")).json()
    assert second["state"] != body["state"]
    assert parse_qs(urlsplit(second["authorization_url"]).query)["code_challenge"][0] != query["code_challenge"]


async def test_a_person_who_allows_access_gets_the_channel_connected_and_listed(
    gateway: Gateway, youtube: FakeYouTube
) -> None:
    callback = await connect_with_oauth(gateway, youtube)

    assert callback.status_code == 303, callback.text
    assert callback.headers["location"] == "/studio/account"
    [channel] = await listed(gateway)
    assert (channel["channel_id"], channel["title"]) == (CHANNEL_A, "Lessons")
    assert set(channel) == {"channel_id", "title", "connected_at"}
    sealed = await gateway.blobs.get_bytes(WORK_BUCKET, grant_key("ws-a", CHANNEL_A))
    grant = gateway.sealer().open(sealed)
    assert (grant.workspace_id, grant.channel_id, grant.client_id) == ("ws-a", CHANNEL_A, youtube.client_id)
    assert grant.token_uri == youtube.token_uri
    refresh_token = grant.refresh_token.get_secret_value()
    assert refresh_token.startswith("1//fake-refresh-")
    [redeemed] = [r for r in youtube.token_requests if r.get("grant_type") == "authorization_code"][-1:]
    assert redeemed["redirect_uri"] == REDIRECT_URI and redeemed["code_verifier"]
    document = await gateway.mongo[gateway.database][CHANNELS].find_one({"channel_id": CHANNEL_A})
    assert document is not None and document["connected_by"] == "user-ws-a"
    assert refresh_token not in document["sealed_grant"]
    assert gateway.sealer().open(document["sealed_grant"].encode()) == grant


async def test_the_callback_answers_json_when_asked(gateway: Gateway, youtube: FakeYouTube) -> None:
    state, query = await start(gateway)
    code = youtube.authorize(query["client_id"], query["redirect_uri"], query["code_challenge"], channel_id=CHANNEL_A)
    answer = await gateway.http.get(
        "/api/channels/oauth/callback",
        params={"code": code, "state": state},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["channel_id"] == CHANNEL_A


async def test_a_state_is_used_once(gateway: Gateway, youtube: FakeYouTube) -> None:
    state, query = await start(gateway)
    code = youtube.authorize(query["client_id"], query["redirect_uri"], query["code_challenge"])
    first = await gateway.http.get("/api/channels/oauth/callback", params={"code": code, "state": state})
    assert first.status_code == 303, first.text

    again = await gateway.http.get("/api/channels/oauth/callback", params={"code": code, "state": state})

    assert again.status_code == 400
    assert again.json()["error"]["code"] == "OAUTH_FAILED"
    assert "already used" in again.json()["error"]["message"]


async def test_an_unknown_or_expired_state_is_refused(gateway: Gateway, youtube: FakeYouTube) -> None:
    unknown = await gateway.http.get("/api/channels/oauth/callback", params={"code": "4/x", "state": "made-up"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "OAUTH_FAILED")

    state, query = await start(gateway)
    code = youtube.authorize(query["client_id"], query["redirect_uri"], query["code_challenge"])
    gateway.clock.now += 601
    expired = await gateway.http.get("/api/channels/oauth/callback", params={"code": code, "state": state})
    assert expired.status_code == 400
    assert "expired" in expired.json()["error"]["message"]
    assert await listed(gateway) == []


async def test_refused_consent_says_so(gateway: Gateway) -> None:
    state, _ = await start(gateway)
    denied = await gateway.http.get("/api/channels/oauth/callback", params={"error": "access_denied", "state": state})
    assert denied.status_code == 400
    assert "access was not granted" in denied.json()["error"]["message"]


async def test_a_code_granted_for_another_challenge_is_refused_by_google(
    gateway: Gateway, youtube: FakeYouTube
) -> None:
    state, query = await start(gateway)
    other_challenge = "A" * 43  # not the S256 of the verifier the gateway kept
    code = youtube.authorize(query["client_id"], query["redirect_uri"], other_challenge)

    refused = await gateway.http.get("/api/channels/oauth/callback", params={"code": code, "state": state})

    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "OAUTH_FAILED")
    assert await listed(gateway) == []


# ---- a pasted refresh token ------------------------------------------------------------------------------------
async def test_a_pasted_refresh_token_connects_its_channel_and_a_revoked_one_is_refused(
    gateway: Gateway, youtube: FakeYouTube
) -> None:
    token = youtube.refresh_token_for("UCpastedChannel0000000001", "Pasted")
    created = await gateway.http.post("/api/channels", json={"refresh_token": token})
    assert created.status_code == 201, created.text
    assert created.json()["channel_id"] == "UCpastedChannel0000000001"
    assert token not in created.text
    grant = gateway.sealer().open(
        await gateway.blobs.get_bytes(WORK_BUCKET, grant_key("ws-a", "UCpastedChannel0000000001"))
    )
    assert grant.refresh_token.get_secret_value() == token

    revoked = youtube.refresh_token_for("UCrevokedChannel000000001")
    youtube.revoke(revoked)
    refused = await gateway.http.post("/api/channels", json={"refresh_token": revoked})
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["error"]["details"]["problems"]
    assert problem["field"] == "refresh_token" and "invalid_grant" in problem["problem"]
    assert revoked not in refused.text
    assert [c["channel_id"] for c in await listed(gateway)] == ["UCpastedChannel0000000001"]


async def test_connecting_a_channel_again_replaces_its_grant(gateway: Gateway, youtube: FakeYouTube) -> None:
    first = youtube.refresh_token_for(CHANNEL_A, "Old title")
    second = youtube.refresh_token_for(CHANNEL_A, "New title")
    assert (await gateway.http.post("/api/channels", json={"refresh_token": first})).status_code == 201
    assert (await gateway.http.post("/api/channels", json={"refresh_token": second})).status_code == 201

    [channel] = await listed(gateway)
    assert channel["title"] == "New title"
    grant = gateway.sealer().open(await gateway.blobs.get_bytes(WORK_BUCKET, grant_key("ws-a", CHANNEL_A)))
    assert grant.refresh_token.get_secret_value() == second


async def test_rotating_the_key_reseals_every_stored_grant_under_the_new_one(
    gateway: Gateway, youtube: FakeYouTube
) -> None:
    token = youtube.refresh_token_for(CHANNEL_A, "Lessons")
    assert (await gateway.http.post("/api/channels", json={"refresh_token": token})).status_code == 201
    old_key = gateway.settings.channel_token_key.get_secret_value()
    new_key = Fernet.generate_key().decode()
    rotating = settings_for(youtube, channel_token_key=f"{new_key},{old_key}")
    store = ChannelStore(gateway.mongo, gateway.database)
    google = google_http_client(rotating)
    try:
        channels = ConnectedChannels(store, channel_setup(rotating, gateway.blobs, google))
        first = await channels.reseal_grants()
        again = await channels.reseal_grants()
    finally:
        await google.aclose()

    assert (first.resealed, first.current, first.unopenable) == (1, 0, 0)
    assert (again.resealed, again.current) == (0, 1)
    only_new = GrantSealer(SecretStr(new_key))
    in_bucket = await gateway.blobs.get_bytes(WORK_BUCKET, grant_key("ws-a", CHANNEL_A))
    assert only_new.open(in_bucket).refresh_token.get_secret_value() == token
    stored = await store.get("ws-a", CHANNEL_A)
    assert stored is not None and only_new.open(stored.sealed_grant).channel_id == CHANNEL_A
    with pytest.raises(GrantKeyError):
        GrantSealer(SecretStr(old_key)).open(in_bucket)


async def test_google_failing_or_not_answering_stores_nothing(gateway: Gateway, youtube: FakeYouTube) -> None:
    youtube.fail("token", 503)
    failed = await gateway.http.post("/api/channels", json={"refresh_token": youtube.refresh_token})
    assert (failed.status_code, failed.json()["error"]["code"]) == (502, "YOUTUBE_FAILED")

    unreachable = settings_for(youtube, youtube_token_uri="https://127.0.0.1:9/token")
    async with google_http_client(unreachable) as google:
        down = ConnectedChannels(
            ChannelStore(gateway.mongo, gateway.database), channel_setup(unreachable, gateway.blobs, google)
        )
        gateway.app.dependency_overrides[channels_of] = lambda: down
        timed_out = await gateway.http.post("/api/channels", json={"refresh_token": youtube.refresh_token})
    assert (timed_out.status_code, timed_out.json()["error"]["code"]) == (504, "YOUTUBE_TIMEOUT")
    assert await listed(gateway) == []


async def test_without_the_key_connecting_is_off_and_says_which_setting(gateway: Gateway, youtube: FakeYouTube) -> None:
    off = settings_for(youtube, channel_token_key="")
    async with google_http_client(off) as google:
        channels = ConnectedChannels(
            ChannelStore(gateway.mongo, gateway.database), channel_setup(off, gateway.blobs, google)
        )
        gateway.app.dependency_overrides[channels_of] = lambda: channels
        refused = await gateway.http.post("/api/channels/oauth/start")
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "NOT_CONFIGURED"
    assert "REELFLOW_CHANNEL_TOKEN_KEY" in refused.json()["error"]["message"]


# ---- workspaces ------------------------------------------------------------------------------------------------
async def test_another_workspace_can_neither_see_nor_disconnect_the_channel(
    gateway: Gateway, youtube: FakeYouTube
) -> None:
    assert (await connect_with_oauth(gateway, youtube)).status_code == 303
    other = {"X-Test-Workspace": "ws-b"}

    assert await listed(gateway, "ws-b") == []
    not_theirs = await gateway.http.delete(f"/api/channels/{CHANNEL_A}", headers=other)
    assert (not_theirs.status_code, not_theirs.json()["error"]["code"]) == (404, "NOT_FOUND")
    assert await gateway.blobs.stat(WORK_BUCKET, grant_key("ws-a", CHANNEL_A)) is not None

    deleted = await gateway.http.delete(f"/api/channels/{CHANNEL_A}")
    assert deleted.status_code == 204
    assert await listed(gateway) == []
    assert await gateway.blobs.stat(WORK_BUCKET, grant_key("ws-a", CHANNEL_A)) is None
    assert (await gateway.http.delete(f"/api/channels/{CHANNEL_A}")).status_code == 404


async def voices_not_checked() -> VoiceCatalogue:
    raise TtsError("espeak-ng is not asked in this test")


def checks_for(gateway: Gateway, *, install_channel: bool = False) -> RenderChecks:
    async def owner_of(video_id: str) -> str:
        return video_id.split("/")[0]

    return RenderChecks(
        gateway.blobs,
        "media",
        publishing_available=install_channel,
        voice_catalogue=voices_not_checked,
        channels=gateway.channels,
        owner_of=owner_of,
    )


async def test_only_the_workspace_that_connected_a_channel_may_publish_to_it(
    gateway: Gateway, youtube: FakeYouTube
) -> None:
    assert (await connect_with_oauth(gateway, youtube)).status_code == 303
    checks = checks_for(gateway)
    target = PublishTarget(title="Lesson", channel_id=CHANNEL_A)

    await checks.lesson(voice=Voice(), language="ko", music=None, publish=target, workspace_id="ws-a")
    with pytest.raises(InvalidRequestError) as refused:
        await checks.lesson(voice=Voice(), language="ko", music=None, publish=target, workspace_id="ws-b")
    [problem] = refused.value.details["problems"]
    assert problem["field"] == "publish.channel_id"
    assert f"channel {CHANNEL_A} is not connected to this workspace" in problem["problem"]
    assert "connect it at /api/channels" in problem["problem"]


async def test_a_job_stores_its_channel_and_workspace(gateway: Gateway, youtube: FakeYouTube) -> None:
    assert (await connect_with_oauth(gateway, youtube)).status_code == 303
    clip = RankingClip(rank=1, media_key="uploads/" + "a" * 64 + ".mp4", label="One")
    spec = RankingSpec(clips=[clip], publish=PublishTarget(title="Top 1", workspace_id="ws-forged"))

    only_channel = await checks_for(gateway).with_publish_channel(spec, "ws-a/video-1")
    assert only_channel.publish is not None
    assert (only_channel.publish.channel_id, only_channel.publish.workspace_id) == (CHANNEL_A, "ws-a")

    to_install = await checks_for(gateway, install_channel=True).with_publish_channel(spec, "ws-a/video-1")
    assert to_install.publish is not None
    assert (to_install.publish.channel_id, to_install.publish.workspace_id) == (None, None)

    none_connected = await checks_for(gateway).with_publish_channel(spec, "ws-b/video-1")
    assert none_connected.publish is not None and none_connected.publish.workspace_id is None
    with pytest.raises(InvalidRequestError):
        await checks_for(gateway).ranking(spec, workspace_id="ws-b")


# ---- the real gateway process ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def channel_gateway(youtube: FakeYouTube, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with own_channel_gateway(youtube, tmp_path_factory.mktemp("channel-gateway")) as url:
        yield url


async def member_of_another_workspace(admin: httpx.AsyncClient, unique_id: str) -> httpx.AsyncClient:
    email, password = f"channels-{unique_id}@reelflow.test", f"password-{unique_id}"
    assert (await admin.post("/api/users", json={"email": email, "password": password})).status_code == 201
    async with httpx.AsyncClient(base_url=admin.base_url, timeout=30) as browser:
        signed = await browser.post("/api/auth/login", json={"email": email, "password": password})
        key = await browser.post(
            "/api/keys",
            json={"name": "channels test", "scopes": ["read", "scripts", "render", "publish"]},
            headers={"X-CSRF-Token": signed.json()["csrf_token"]},
        )
        assert key.status_code == 201, key.text
    headers = {"Authorization": f"Bearer {key.json()['secret']}"}
    return httpx.AsyncClient(base_url=admin.base_url, headers=headers, timeout=30)


async def test_through_the_gateway_process_only_the_connecting_workspace_publishes_to_its_channel(
    channel_gateway: str, youtube: FakeYouTube, unique_id: str
) -> None:
    channel_id = f"UCprocess{unique_id[:12]}"
    later = (datetime.now(UTC) + timedelta(days=30)).replace(tzinfo=None).isoformat(timespec="minutes")
    schedule = {"name": "later", "items": [{"title": "Lifting", "source_text": TINY_LESSON, "due_at": later}]}
    to_channel = {**schedule, "publish": {"privacy": "private", "channel_id": channel_id}}
    async with httpx.AsyncClient(base_url=channel_gateway, headers=ADMIN_HEADERS, timeout=30) as admin:
        token = youtube.refresh_token_for(channel_id, "Process")
        connected = await admin.post("/api/channels", json={"refresh_token": token})
        assert connected.status_code == 201, connected.text
        assert [c["channel_id"] for c in (await admin.get("/api/channels")).json()] == [channel_id]

        async with await member_of_another_workspace(admin, unique_id) as member:
            refused = await member.post("/api/schedules", json=to_channel)
            assert refused.status_code == 422, refused.text
            [problem] = refused.json()["error"]["details"]["problems"]
            assert problem["field"] == "publish.channel_id" and "connect it at /api/channels" in problem["problem"]
            assert (await member.delete(f"/api/channels/{channel_id}")).status_code == 404
            assert (await member.get("/api/channels")).json() == []

        accepted = await admin.post("/api/schedules", json=to_channel)
        assert accepted.status_code == 201, accepted.text
        # With its only channel connected and no channel of the install's own, naming none goes there too.
        assert (
            await admin.post("/api/schedules", json={**schedule, "publish": {"privacy": "private"}})
        ).status_code == 201
        assert (await admin.delete(f"/api/channels/{channel_id}")).status_code == 204
        gone = await admin.post("/api/schedules", json=to_channel)
        assert gone.status_code == 422, gone.text
