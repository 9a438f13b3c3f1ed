"""Which YouTube channel a job publishes to, and the OAuth grant that lets the uploader act for it.

A publish target that names a ``channel_id`` goes to a channel its workspace connected: the gateway stored that
channel's grant, sealed with REELFLOW_CHANNEL_TOKEN_KEY, in the work bucket under the workspace the gateway wrote
into ``publish.workspace_id`` (``reelflow.runtime.channel_grants``); :class:`StoredChannelCredentials` opens it. A
target that names none goes to the install's own channel, from ``REELFLOW_YOUTUBE_*`` settings.
"""

from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from pydantic import SecretStr

from reelflow.contracts import RenderStored
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.channel_grants import CHANNEL_TOKEN_KEY_SETTING, GrantKeyError, GrantSealer, grant_key
from reelflow.runtime.failures import PublishError
from reelflow.uploader.settings import UploaderSettings

# Where the process keeps its provider (``runtime.extras``); the settings provider when none was put there.
CHANNEL_CREDENTIALS_EXTRA = "uploader.channel_credentials"


@dataclass(frozen=True)
class ChannelGrant:
    """An OAuth client and a refresh token for one channel. The secrets never reach a log or an error message."""

    client_id: str
    client_secret: SecretStr = field(repr=False)
    refresh_token: SecretStr = field(repr=False)
    token_uri: str


class ChannelCredentials(Protocol):
    async def grant_for(self, stored: RenderStored) -> ChannelGrant:
        """The grant for the channel ``stored.spec.publish`` goes to.

        Raises a non-retryable :class:`PublishError` when no channel is connected for the job.
        """
        ...


class SettingsChannelCredentials:
    """The single channel named by ``REELFLOW_YOUTUBE_*``."""

    def __init__(self, settings: UploaderSettings) -> None:
        self._settings = settings

    async def grant_for(self, stored: RenderStored) -> ChannelGrant:
        settings = self._settings
        if not settings.youtube_configured:
            raise PublishError(
                f"job {stored.job_id}: no YouTube channel is connected; set REELFLOW_YOUTUBE_CLIENT_ID, "
                "REELFLOW_YOUTUBE_CLIENT_SECRET and REELFLOW_YOUTUBE_REFRESH_TOKEN on the uploader (or name a "
                "channel the workspace connected at /api/channels in publish.channel_id), then retry the job",
                retryable=False,
            )
        return ChannelGrant(
            client_id=settings.youtube_client_id,
            client_secret=settings.youtube_client_secret,
            refresh_token=settings.youtube_refresh_token,
            token_uri=settings.youtube_token_uri,
        )


class StoredChannelCredentials:
    """The channel a job's target names, from the grant its workspace's connection stored; the install's own
    channel (:class:`SettingsChannelCredentials`) when the target names none."""

    def __init__(self, settings: UploaderSettings, blobs: BlobStore) -> None:
        self._settings = settings
        self._blobs = blobs
        self._install = SettingsChannelCredentials(settings)

    async def grant_for(self, stored: RenderStored) -> ChannelGrant:
        target = stored.spec.publish
        if target is None or target.channel_id is None:
            return await self._install.grant_for(stored)
        channel_id, workspace_id = target.channel_id, target.workspace_id or ""
        sealer = self._settings.grant_sealer()
        if sealer is None:
            raise PublishError(
                f"job {stored.job_id}: it publishes to the connected channel {channel_id}, but the uploader has no "
                f"{CHANNEL_TOKEN_KEY_SETTING}; set the gateway's key on the uploader too, then retry the job",
                retryable=False,
            )
        key = grant_key(workspace_id, channel_id)
        if not workspace_id or await self._blobs.stat(self._settings.work_bucket, key) is None:
            raise PublishError(
                f"job {stored.job_id}: channel {channel_id} is not connected (anymore); connect it again at "
                "/api/channels, then retry the job",
                retryable=False,
            )
        return self._opened(stored, sealer, await self._blobs.get_bytes(self._settings.work_bucket, key))

    @staticmethod
    def _opened(stored: RenderStored, sealer: GrantSealer, sealed: bytes) -> ChannelGrant:
        try:
            grant = sealer.open(sealed)
        except GrantKeyError as exc:
            raise PublishError(f"job {stored.job_id}: {exc}", retryable=False) from exc
        return ChannelGrant(
            client_id=grant.client_id,
            client_secret=grant.client_secret,
            refresh_token=grant.refresh_token,
            token_uri=grant.token_uri,
        )


def channel_credentials(extras: dict[str, Any], settings: UploaderSettings, blobs: BlobStore) -> ChannelCredentials:
    """The process's provider: one put in ``extras`` at start-up, or the stored grants with the settings' channel."""
    provider = extras.get(CHANNEL_CREDENTIALS_EXTRA)
    if provider is None:
        provider = extras[CHANNEL_CREDENTIALS_EXTRA] = StoredChannelCredentials(settings, blobs)
    return cast(ChannelCredentials, provider)
