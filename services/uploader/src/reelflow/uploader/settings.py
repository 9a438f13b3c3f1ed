"""Settings of the uploader service: the YouTube channel it publishes to, and how it talks to the YouTube API."""

from pydantic import Field, SecretStr, model_validator

from reelflow.runtime.channel_grants import GoogleClientSettings

# Google's resumable protocol takes chunks in multiples of 256 KiB (all but the last).
RESUMABLE_CHUNK_UNIT = 256 * 1024


class UploaderSettings(GoogleClientSettings):
    service_name: str = "uploader"

    # The install's own channel, where jobs whose publish target names no connected channel go: an OAuth client of
    # a Google Cloud project with the YouTube Data API enabled, and a refresh token granted the youtube.upload and
    # youtube.force-ssl scopes. All three set, or none (publishing there then fails plainly, naming these settings).
    # Channels a workspace connects need none of them here: each sealed grant (REELFLOW_CHANNEL_TOKEN_KEY) carries
    # the client it was granted to.
    # (youtube_client_id, _client_secret, _token_uri, _api_url, _ca_bundle and _timeout_sec: GoogleClientSettings.)
    youtube_refresh_token: SecretStr = SecretStr("")
    youtube_chunk_bytes: int = Field(default=8 * 1024 * 1024, ge=RESUMABLE_CHUNK_UNIT)
    # 5xx, 429, rate limits and network errors are retried within the step this many times in all, with
    # exponential backoff from the first delay up to the cap; after that the bus redelivers, and the upload
    # continues from where the server says it stopped.
    youtube_call_tries: int = Field(default=5, ge=1, le=20)
    youtube_retry_first_delay_sec: float = Field(default=1.0, ge=0, le=60)
    youtube_retry_max_delay_sec: float = Field(default=30.0, ge=0, le=600)
    # YouTube's category for videos whose target names none: 27 is Education.
    youtube_category_id: str = Field(default="27", pattern=r"^\d{1,3}$")

    @property
    def youtube_configured(self) -> bool:
        return bool(self.youtube_client_id)

    @model_validator(mode="after")
    def _youtube_channel_is_whole(self) -> "UploaderSettings":
        given = {
            "REELFLOW_YOUTUBE_CLIENT_ID": bool(self.youtube_client_id),
            "REELFLOW_YOUTUBE_CLIENT_SECRET": bool(self.youtube_client_secret.get_secret_value()),
            "REELFLOW_YOUTUBE_REFRESH_TOKEN": bool(self.youtube_refresh_token.get_secret_value()),
        }
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(name for name, is_set in given.items() if not is_set)
            raise ValueError(f"YouTube publishing needs all three OAuth settings; {missing} not set")
        if self.youtube_chunk_bytes % RESUMABLE_CHUNK_UNIT:
            raise ValueError(
                f"REELFLOW_YOUTUBE_CHUNK_BYTES must be a multiple of {RESUMABLE_CHUNK_UNIT} (256 KiB), "
                f"got {self.youtube_chunk_bytes}"
            )
        return self
