"""What a workspace does with its YouTube channels through the API: connect one with the authorization code flow
(PKCE) or with a pasted refresh token, list them (never their tokens), and disconnect one.

Connecting stores the channel in MongoDB and its sealed grant in the work bucket, where the uploader reads it
(``reelflow.runtime.channel_grants``); disconnecting deletes both. A channel belongs to its workspace: any other
caller is answered exactly as if it did not exist (404). Each OAuth flow's state ties the callback, which comes
without credentials, to the workspace that started it; it is single use and lasts :data:`OAUTH_STATE_TTL_SEC`.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from pydantic import Field, SecretStr

from reelflow.contracts._base import Contract
from reelflow.gateway.accounts import Caller
from reelflow.gateway.channel_store import ChannelRecord, ChannelStore, OAuthState
from reelflow.gateway.refusals import InvalidRequestError, NotConfiguredError, NotFoundError, OAuthRefusedError
from reelflow.gateway.request_bodies import RequestBody
from reelflow.gateway.stored_times import epoch_now, required_time_of
from reelflow.gateway.youtube_oauth import (
    GoogleOAuth,
    GrantRefusedError,
    Tokens,
    authorization_url,
    new_code_verifier,
)
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.channel_grants import (
    CHANNEL_TOKEN_KEY_SETTING,
    ChannelGrant,
    GrantKeyError,
    GrantSealer,
    grant_key,
)

OAUTH_STATE_TTL_SEC = 600.0
CALLBACK_PATH = "/api/channels/oauth/callback"
GRANT_CONTENT_TYPE = "application/octet-stream"


@dataclass
class ResealCount:
    """What :meth:`ConnectedChannels.reseal_grants` did with the stored grants."""

    resealed: int = 0  # sealed again under the first key
    current: int = 0  # already sealed under it
    unopenable: int = 0  # no key of the setting opens them


class ChannelView(Contract):
    channel_id: str = Field(description="The YouTube channel id (UC…): name it in a render's `publish.channel_id`.")
    title: str
    connected_at: datetime


class OAuthStarted(Contract):
    authorization_url: str = Field(description="Send the person here; Google brings them back to the callback.")
    state: str
    expires_at: datetime = Field(description="The flow must be finished by then (10 minutes).")


class PastedToken(RequestBody):
    """Body of ``POST /api/channels``: for installs without a browser on the way (headless)."""

    refresh_token: SecretStr = Field(
        min_length=1,
        description="A refresh token for the install's OAuth client (REELFLOW_YOUTUBE_CLIENT_ID), granted the "
        "youtube.upload, youtube.force-ssl and youtube.readonly scopes.",
    )


def channel_view(record: ChannelRecord) -> ChannelView:
    return ChannelView(
        channel_id=record.channel_id, title=record.title, connected_at=required_time_of(record.connected_at)
    )


@dataclass(frozen=True)
class ChannelSetup:
    """How this install connects channels: Google, the key grants are sealed with, where the grants go, and the
    callback's address. ``google`` or ``sealer`` None: connecting is off (the message names the setting)."""

    google: GoogleOAuth | None
    sealer: GrantSealer | None
    blobs: BlobStore
    work_bucket: str
    redirect_uri: str


class ConnectedChannels:
    def __init__(self, store: ChannelStore, setup: ChannelSetup, *, clock: Callable[[], float] = epoch_now) -> None:
        self._store = store
        self._setup = setup
        self._clock = clock

    # ---- queries ------------------------------------------------------------------------------------------------
    async def of_workspace(self, caller: Caller) -> list[ChannelView]:
        return [channel_view(record) for record in await self._store.of_workspace(caller.workspace_id)]

    async def channel_ids(self, workspace_id: str) -> list[str]:
        """The ids of the workspace's connected channels, oldest connection first (for the render checks)."""
        return [record.channel_id for record in await self._store.of_workspace(workspace_id)]

    # ---- connecting ---------------------------------------------------------------------------------------------
    async def start_oauth(self, caller: Caller) -> OAuthStarted:
        google, _ = self._configured()
        now = self._clock()
        await self._store.forget_expired(now)
        state = OAuthState(
            state=secrets.token_urlsafe(32),
            workspace_id=caller.workspace_id,
            started_by=caller.user_id or caller.principal_id,
            code_verifier=new_code_verifier(),
            redirect_uri=self._setup.redirect_uri,
            expires_at=now + OAUTH_STATE_TTL_SEC,
        )
        await self._store.add_state(state)
        url = authorization_url(
            google.client, redirect_uri=state.redirect_uri, state=state.state, code_verifier=state.code_verifier
        )
        return OAuthStarted(
            authorization_url=url, state=state.state, expires_at=datetime.fromtimestamp(state.expires_at, UTC)
        )

    async def finish_oauth(self, *, code: str | None, state: str | None, error: str | None) -> ChannelView:
        """The callback: Google's answer to the flow ``state`` started, redeemed and stored as the channel."""
        google, _ = self._configured()
        if not state:
            raise OAuthRefusedError(
                "the OAuth callback came without a state; start again at POST /api/channels/oauth/start"
            )
        started = await self._store.take_state(state)
        if started is None or started.expires_at < self._clock():
            raise OAuthRefusedError(
                "this OAuth flow is unknown, expired (flows last 10 minutes) or already used; start again at "
                "POST /api/channels/oauth/start"
            )
        if error is not None:
            reason = "access was not granted" if error == "access_denied" else f"Google answered {error!r}"
            raise OAuthRefusedError(f"the channel was not connected: {reason}; start again to connect it")
        if not code:
            raise OAuthRefusedError(
                "the OAuth callback came without a code; start again at POST /api/channels/oauth/start"
            )
        try:
            tokens = await google.redeem_code(
                code, code_verifier=started.code_verifier, redirect_uri=started.redirect_uri
            )
        except GrantRefusedError as exc:
            raise OAuthRefusedError(
                "Google refused the authorization code (expired or used); start again at POST /api/channels/oauth/start"
            ) from exc
        if tokens.refresh_token is None:
            raise OAuthRefusedError(
                "Google issued no refresh token, so the uploader could not act for the channel later; remove the "
                "app's access in the Google account's security settings and connect again"
            )
        return await self._connect(started.workspace_id, started.started_by, tokens, tokens.refresh_token)

    async def connect_pasted(self, caller: Caller, body: PastedToken) -> ChannelView:
        """A pasted refresh token, proven by one refresh, stored as the channel it acts for."""
        google, _ = self._configured()
        refresh_token = body.refresh_token.get_secret_value().strip()
        try:
            tokens = await google.refresh(refresh_token)
        except GrantRefusedError as exc:
            raise InvalidRequestError.of(
                [
                    {
                        "field": "refresh_token",
                        "problem": "Google refused this refresh token (invalid_grant: revoked, expired, or issued to "
                        "another OAuth client than REELFLOW_YOUTUBE_CLIENT_ID); make a new one for this client",
                    }
                ]
            ) from exc
        return await self._connect(caller.workspace_id, caller.user_id or caller.principal_id, tokens, refresh_token)

    async def disconnect(self, caller: Caller, channel_id: str) -> None:
        """Forget the channel; jobs that still name it fail at publish, asking for it to be connected again."""
        record = await self._store.get(caller.workspace_id, channel_id)
        if record is None:
            raise NotFoundError(f"no connected channel {channel_id} in this workspace")
        await self._setup.blobs.delete_prefix(self._setup.work_bucket, grant_key(caller.workspace_id, channel_id))
        await self._store.delete(caller.workspace_id, channel_id)

    async def reseal_grants(self) -> ResealCount:
        """Seal every stored grant that an older key of ``REELFLOW_CHANNEL_TOKEN_KEY`` sealed under its first key,
        in the work bucket and in MongoDB, so the older key can be dropped. A grant that no key opens is left as it
        is and counted: its channel must be connected again. With one key (not rotating) nothing is read."""
        count = ResealCount()
        sealer = self._setup.sealer
        if sealer is None or not sealer.rotating:
            return count
        for record in await self._store.every_channel():
            try:
                resealed = sealer.resealed(record.sealed_grant)
            except GrantKeyError:
                count.unopenable += 1
                continue
            if resealed is None:
                count.current += 1
                continue
            # The bucket first, as when connecting: the uploader reads the grant there.
            await self._setup.blobs.put_bytes(
                self._setup.work_bucket, grant_key(record.workspace_id, record.channel_id), resealed, GRANT_CONTENT_TYPE
            )
            await self._store.save(replace(record, sealed_grant=resealed))
            count.resealed += 1
        return count

    async def _connect(self, workspace_id: str, connected_by: str, tokens: Tokens, refresh_token: str) -> ChannelView:
        google, sealer = self._configured()
        channel = await google.channel_of(tokens.access_token)
        grant = ChannelGrant(
            workspace_id=workspace_id,
            channel_id=channel.channel_id,
            client_id=google.client.client_id,
            client_secret=SecretStr(google.client.client_secret),
            refresh_token=SecretStr(refresh_token),
            token_uri=google.client.token_uri,
        )
        sealed = sealer.seal(grant)
        # The grant first: a channel listed is always one the uploader can open.
        await self._setup.blobs.put_bytes(
            self._setup.work_bucket, grant_key(workspace_id, channel.channel_id), sealed, GRANT_CONTENT_TYPE
        )
        record = ChannelRecord(
            workspace_id=workspace_id,
            channel_id=channel.channel_id,
            title=channel.title,
            connected_by=connected_by,
            connected_at=self._clock(),
            sealed_grant=sealed,
        )
        await self._store.save(record)
        return channel_view(record)

    def _configured(self) -> tuple[GoogleOAuth, GrantSealer]:
        if self._setup.sealer is None:
            raise NotConfiguredError(
                f"connecting YouTube channels is off on this install: set {CHANNEL_TOKEN_KEY_SETTING} (a Fernet key) "
                "on the gateway and the uploader"
            )
        if self._setup.google is None:
            raise NotConfiguredError(
                "connecting YouTube channels needs the install's OAuth client: set REELFLOW_YOUTUBE_CLIENT_ID and "
                "REELFLOW_YOUTUBE_CLIENT_SECRET on the gateway (the uploader's)"
            )
        return self._setup.google, self._setup.sealer
