"""The OAuth grant of a YouTube channel a workspace connected, sealed with ``REELFLOW_CHANNEL_TOKEN_KEY``.

The gateway owns MongoDB and the uploader has none, so the gateway hands each grant over through the work bucket: on
connect it writes the sealed grant to :func:`grant_key` (``channels/{workspace_id}/{channel_id}.grant``), on
disconnect it deletes it, and the uploader reads and opens it for a job whose ``publish.channel_id`` names the
channel. The workspace is part of the key, so two workspaces that connect the same channel hold two grants and
one disconnecting never takes the other's away; the gateway writes the job's workspace into ``publish.workspace_id``
when it stores the job (the events carry no workspace otherwise), and a client cannot choose it.

Sealing is Fernet (AES-128-CBC with HMAC-SHA256): the key is 32 url-safe base64 bytes, made with
``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``. The gateway and
the uploader need the same key; a grant sealed with another one cannot be opened (:class:`GrantKeyError`).

Rotating the key: set ``REELFLOW_CHANNEL_TOKEN_KEY`` to ``NEW,OLD`` (comma-separated) on both services. The first
key seals, every key opens, and the gateway re-seals each stored grant under the first key when it starts
(:meth:`GrantSealer.resealed`); once it has logged that every grant is re-sealed, ``OLD`` can be dropped.
"""

import base64
import binascii
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_serializer, field_validator, model_validator

from reelflow.runtime.settings import ServiceSettings

CHANNEL_TOKEN_KEY_SETTING = "REELFLOW_CHANNEL_TOKEN_KEY"  # noqa: S105 - a setting name
FERNET_KEY_BYTES = 32
# A key anyone can read in the repository (the docs' example): refused when REELFLOW_ENVIRONMENT=prod.
EXAMPLE_CHANNEL_TOKEN_KEY = "cmVlbGZsb3ctZXhhbXBsZS1rZXktbm90LWZvci1wcm8="  # noqa: S105 - public, refused in prod
CHANNEL_ID_PATTERN = r"^[A-Za-z0-9_-]{3,64}$"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - an endpoint, not a secret
YOUTUBE_API_URL = "https://youtube.googleapis.com/"


class GrantKeyError(Exception):
    """A sealed grant that this key cannot open: sealed with another key, or damaged."""


class ChannelGrant(BaseModel):
    """What lets the uploader act for one connected channel: the install's OAuth client and the channel's refresh
    token, with the workspace and channel it was granted for. The secrets never reach a log or an error message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workspace_id: str = Field(min_length=1)
    channel_id: str = Field(pattern=CHANNEL_ID_PATTERN)
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr
    token_uri: str = Field(min_length=1)

    @field_serializer("client_secret", "refresh_token", when_used="json")
    def _revealed_for_sealing(self, value: SecretStr) -> str:
        """Only :meth:`GrantSealer.seal` dumps a grant to JSON, and it encrypts what it dumps."""
        return value.get_secret_value()


def grant_key(workspace_id: str, channel_id: str) -> str:
    """Where the sealed grant of a workspace's channel is kept in the work bucket."""
    return f"channels/{workspace_id}/{channel_id}.grant"


def token_keys(setting: str) -> list[str]:
    """The keys ``REELFLOW_CHANNEL_TOKEN_KEY`` holds, the sealing one first (comma-separated while rotating)."""
    return [key.strip() for key in setting.split(",") if key.strip()]


def fernet_key_problem(key: str) -> str | None:
    """Why ``key`` is not a Fernet key, or None when it is one."""
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) != FERNET_KEY_BYTES:
        return (
            f"{CHANNEL_TOKEN_KEY_SETTING} must be a Fernet key (32 url-safe base64 bytes), e.g. made with python -c "
            '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        )
    return None


def token_key_problem(setting: str) -> str | None:
    """Why the setting is not one Fernet key or a comma-separated list of them, or None."""
    keys = token_keys(setting)
    for position, key in enumerate(keys, start=1):
        problem = fernet_key_problem(key)
        if problem is not None:
            return problem if len(keys) == 1 else f"key {position} of {len(keys)}: {problem}"
    return None


class GrantSealer:
    """Seals with the first key of the setting and opens with any of them."""

    def __init__(self, setting: SecretStr) -> None:
        keys = [Fernet(key.encode("ascii")) for key in token_keys(setting.get_secret_value())]
        self._sealing = keys[0]
        self._opening = MultiFernet(keys)
        self.rotating = len(keys) > 1  # older keys are still given: stored grants may need re-sealing

    def seal(self, grant: ChannelGrant) -> bytes:
        return self._sealing.encrypt(grant.model_dump_json().encode("utf-8"))

    def open(self, sealed: bytes) -> ChannelGrant:
        try:
            plain = self._opening.decrypt(sealed)
        except InvalidToken as exc:
            raise _unopenable() from exc
        return ChannelGrant.model_validate_json(plain)

    def resealed(self, sealed: bytes) -> bytes | None:
        """``sealed`` sealed again under the sealing key, or None when it already is.

        Raises :class:`GrantKeyError` when no key of the setting opens it.
        """
        try:
            self._sealing.decrypt(sealed)
        except InvalidToken:
            pass
        else:
            return None
        try:
            return self._opening.rotate(sealed)
        except InvalidToken as exc:
            raise _unopenable() from exc


def _unopenable() -> GrantKeyError:
    return GrantKeyError(
        f"a channel grant cannot be opened with this {CHANNEL_TOKEN_KEY_SETTING}: it was sealed with another "
        "key (the gateway and the uploader must have the same one) or it is damaged; set the same key on "
        "both, or connect the channel again"
    )


class ChannelTokenKeySettings(ServiceSettings):
    """The settings of a service that reads channel grants: the gateway and the uploader extend it, the others
    do not (a secret reaches only the services that need it)."""

    channel_token_key: SecretStr = Field(
        default=SecretStr(""),
        description="The Fernet key that seals the OAuth grants of connected YouTube channels (32 url-safe base64 "
        "bytes), the same on the gateway and the uploader. To rotate it, give `NEW,OLD`: the first seals, each "
        "opens, and the gateway re-seals the stored grants under the first when it starts. Empty: connecting "
        "channels is off.",
    )

    @property
    def channels_connectable(self) -> bool:
        return bool(token_keys(self.channel_token_key.get_secret_value()))

    def grant_sealer(self) -> GrantSealer | None:
        return GrantSealer(self.channel_token_key) if self.channels_connectable else None

    @model_validator(mode="after")
    def _channel_token_key_is_a_real_key(self) -> "ChannelTokenKeySettings":
        setting = self.channel_token_key.get_secret_value()
        if not token_keys(setting):
            return self
        problem = token_key_problem(setting)
        if problem is not None:
            raise ValueError(problem)
        if self.environment == "prod" and EXAMPLE_CHANNEL_TOKEN_KEY in token_keys(setting):
            raise ValueError(
                f"{CHANNEL_TOKEN_KEY_SETTING} is the documented example key; make one of your own when "
                "REELFLOW_ENVIRONMENT=prod"
            )
        return self


class GoogleClientSettings(ChannelTokenKeySettings):
    """How a service that calls Google for YouTube (the gateway connecting channels, the uploader publishing) reaches
    it: the install's OAuth client, the endpoints, the trusted CAs and the timeout, the same names on both."""

    youtube_client_id: str = Field(
        default="",
        description="The install's OAuth client (a Google Cloud project with the YouTube Data API enabled): the "
        "uploader's own channel was granted to it, and workspaces connect their channels through it.",
    )
    youtube_client_secret: SecretStr = Field(
        default=SecretStr(""), description="The OAuth client's secret, sent to the token endpoint."
    )
    youtube_token_uri: str = Field(default=GOOGLE_TOKEN_URI, description="Google's OAuth token endpoint.")
    youtube_api_url: str = Field(default=YOUTUBE_API_URL, description="The YouTube Data API.")
    youtube_ca_bundle: Path | None = Field(
        default=None,
        description="A PEM bundle to trust for Google's endpoints instead of the default one (a TLS-inspecting "
        "proxy, or a local test server).",
    )
    youtube_timeout_sec: float = Field(
        default=60.0,
        gt=0,
        le=600,
        description="How long one HTTP call to Google (a token, an API call, an upload chunk) may go unanswered.",
    )

    @field_validator("youtube_ca_bundle", mode="before")
    @classmethod
    def _blank_ca_bundle_is_none(cls, value: object) -> object:
        """docker-compose passes an unset variable as "", which would otherwise become the path "."."""
        return None if value == "" else value
