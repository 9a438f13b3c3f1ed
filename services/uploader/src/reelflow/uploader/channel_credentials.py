"""Which YouTube channel a job publishes to, and the OAuth grant that lets the uploader act for it.

Today one channel comes from settings. Once workspaces connect their own channels, the gateway hands the uploader
each workspace's (decrypted) grant through another :class:`ChannelCredentials`; nothing else changes.
"""

from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from pydantic import SecretStr

from reelflow.contracts import RenderStored
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
                "REELFLOW_YOUTUBE_CLIENT_SECRET and REELFLOW_YOUTUBE_REFRESH_TOKEN on the uploader, "
                "then retry the job",
                retryable=False,
            )
        return ChannelGrant(
            client_id=settings.youtube_client_id,
            client_secret=settings.youtube_client_secret,
            refresh_token=settings.youtube_refresh_token,
            token_uri=settings.youtube_token_uri,
        )


def channel_credentials(extras: dict[str, Any], settings: UploaderSettings) -> ChannelCredentials:
    """The process's provider: one put in ``extras`` at start-up, or the settings' single channel."""
    provider = extras.get(CHANNEL_CREDENTIALS_EXTRA)
    if provider is None:
        provider = extras[CHANNEL_CREDENTIALS_EXTRA] = SettingsChannelCredentials(settings)
    return cast(ChannelCredentials, provider)
