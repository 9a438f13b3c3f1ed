"""Settings of the gateway: the REST API, the ledger and its MongoDB."""

import json
from typing import Literal
from urllib.parse import urlparse

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator

from reelflow.contracts import VoiceProvider
from reelflow.gateway.webhook_schedule import STANDARD_RETRY_DELAYS_SEC
from reelflow.gateway.webhook_signing import is_webhook_secret
from reelflow.runtime.backend_connection import BackendSettings, absolute_base_url
from reelflow.runtime.channel_grants import GoogleClientSettings

MIB = 1024 * 1024
MIN_INTERNAL_TOKEN_CHARS = 24


class GatewaySettings(BackendSettings, GoogleClientSettings):
    """The gateway's settings (env ``REELFLOW_<NAME>``; the Spring backend's also by the names its documents use,
    ``BACKEND_BASE_URL`` …)."""

    service_name: str = "gateway"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    mongo_url: str = "mongodb://127.0.0.1:27017"
    mongo_db: str = "reelflow"
    mongo_timeout_ms: int = 5000
    readiness_timeout_sec: float = Field(
        default=1.0, gt=0, le=10, description="How long GET /readyz waits for each of NATS, MongoDB and S3."
    )
    outbox_idle_sec: float = Field(
        default=2.0, gt=0, le=60, description="How often the outbox relay looks for owed events without a kick."
    )
    youtube_install_channel: bool | None = Field(
        default=None,
        description="Whether the uploader has a channel of its own (REELFLOW_YOUTUBE_REFRESH_TOKEN) for jobs whose "
        "`publish` names no connected channel. Unset: yes when REELFLOW_YOUTUBE_CLIENT_ID is set and "
        "REELFLOW_CHANNEL_TOKEN_KEY is not, as before channels could be connected.",
    )
    youtube_auth_uri: str = Field(
        default="https://accounts.google.com/o/oauth2/v2/auth",
        description="Google's OAuth authorization endpoint, where POST /api/channels/oauth/start sends people.",
    )
    voice_providers: list[VoiceProvider] = Field(
        default_factory=lambda: list[VoiceProvider](["espeak"]),
        description="tts's REELFLOW_VOICE_PROVIDERS, given to the gateway too: render requests may ask for these "
        "voice providers (espeak is always there); the others are refused at submit, and GET /api/voices lists "
        "their voices.",
    )
    presigned_url_ttl_sec: int = 3600
    sse_keepalive_sec: float = 15.0
    sse_poll_sec: float = 2.0
    upload_max_bytes: int = Field(
        default=500 * MIB, ge=1, description="The largest clip or music file POST /api/uploads accepts."
    )
    upload_probe_timeout_sec: float = Field(default=30.0, gt=0, description="How long ffprobe may look at an upload.")
    upload_scratch_dir: str | None = Field(
        default=None, description="Where uploads are received before they are checked; the system temp dir when unset."
    )
    admin_email: str = Field(
        default="admin@reelflow.local", description="The first admin, made on a fresh install (no users yet)."
    )
    admin_password: SecretStr = Field(
        default=SecretStr(""),
        description="The first admin's password; when empty one is made up and shown once (by `reelflow up`, or in "
        "the gateway's log).",
    )
    admin_api_key: SecretStr = Field(
        default=SecretStr(""),
        description="An API key (rf_<12 hex>_<32 chars>) to give the first admin with every scope, for programs "
        "that start the stack themselves (`reelflow render`, tests). Made once; revoking it sticks.",
    )
    internal_token: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices(
            "REELFLOW_INTERNAL_TOKEN", "REELFLOW_BACKEND_INTERNAL_TOKEN", "BACKEND_INTERNAL_TOKEN"
        ),
        description="The Spring backend's X-Internal-Token (also read from BACKEND_INTERNAL_TOKEN); empty turns "
        "that way in off.",
    )
    internal_workspace: str = Field(
        default="default", description="The workspace whose things the backend's internal token acts on."
    )
    session_lifetime_hours: float = Field(default=12.0, gt=0, le=24 * 30, description="How long a sign-in lasts.")
    session_cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="When the session cookie is marked Secure: auto (when the request came over https), always "
        "(behind a proxy that terminates TLS), or never.",
    )
    rate_limit_window_sec: int = Field(default=60, ge=1, le=3600, description="The window the budgets count in.")
    rate_limit_requests: int = Field(
        default=600, ge=1, description="Requests per window for one API key or one signed-in person."
    )
    rate_limit_writes: int = Field(
        default=60, ge=1, description="Of those, how many may change something (POST, PUT, PATCH, DELETE)."
    )
    rate_limit_sign_ins: int = Field(default=10, ge=1, description="Sign-in attempts per window from one address.")

    public_s3_url: str = Field(
        default="",
        description="The S3 endpoint as clients outside the cluster reach it (http(s)://host[:port], no path), e.g. "
        "https://media.example.com. When set, GET /api/assets/{job_id}/{kind} answers with a 302 to a URL presigned "
        "for that endpoint, valid for REELFLOW_PRESIGNED_URL_TTL_SEC, and the file no longer passes through the "
        "gateway; when empty, the gateway streams the file itself (with Range support) from REELFLOW_S3_ENDPOINT.",
    )
    asset_read_timeout_sec: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="While the gateway streams an asset, how long it waits for each chunk from S3 before it cuts "
        "the download short.",
    )
    trust_forwarded_headers: bool = Field(
        default=False,
        description="Behind a proxy that terminates TLS: believe its X-Forwarded-Proto, so a request it received "
        "over HTTPS gets Strict-Transport-Security. Leave off when clients reach the gateway directly, since "
        "anyone can send the header.",
    )
    cors_allow_origins: list[str] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) whose pages may call the API from a browser with credentials, "
        'as a JSON list, e.g. ["https://studio.example.com"]. Empty: no CORS headers at all (the studio the '
        "gateway serves is same-origin and needs none). '*' is refused: with credentials it would let any site "
        "act as a signed-in user.",
    )
    ws_idle_timeout_sec: float = Field(
        default=600.0,
        gt=0,
        le=86400,
        description="How long WS /ws/videos/{video_id}/render-progress waits for a video with no render job to get "
        "one before it closes (code 4408).",
    )

    public_base_url: str = Field(
        default="",
        description="The gateway as clients outside the cluster reach it (http(s)://host[:port][/prefix]), e.g. "
        "https://reelflow.example.com: the asset URLs in rf.render.completed and the backend's job callback are "
        "built on it. Empty: http://REELFLOW_GATEWAY_HOST:REELFLOW_GATEWAY_PORT.",
    )

    @field_validator("youtube_install_channel", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """docker-compose passes an unset variable as ""."""
        return None if value == "" else value

    @property
    def youtube_install_channel_configured(self) -> bool:
        """Whether a publish target that names no channel goes to the uploader's own channel."""
        if self.youtube_install_channel is not None:
            return self.youtube_install_channel
        return bool(self.youtube_client_id.strip()) and not self.channels_connectable

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url_is_absolute(cls, value: str) -> str:
        return absolute_base_url(value, "REELFLOW_PUBLIC_BASE_URL")

    @property
    def gateway_base_url(self) -> str:
        """Where clients outside reach the gateway: REELFLOW_PUBLIC_BASE_URL, else its own host and port."""
        return self.public_base_url or f"http://{self.gateway_host}:{self.gateway_port}"

    @field_validator("public_s3_url")
    @classmethod
    def _public_s3_url_is_an_endpoint(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        url = urlparse(value)
        if url.scheme not in ("http", "https") or not url.hostname or url.path not in ("", "/") or url.query:
            raise ValueError(
                f"REELFLOW_PUBLIC_S3_URL must be http(s)://host[:port] with no path or query, got {value!r}; "
                "presigned URLs are signed for a host, so an S3 endpoint under a path prefix cannot be used"
            )
        return value.rstrip("/")

    @field_validator("cors_allow_origins", "webhook_retry_delays_sec", "voice_providers", mode="before")
    @classmethod
    def _lists_from_json_text(cls, value: object) -> object:
        """The environment's JSON list is decoded by pydantic-settings; the same text given any other way is too."""
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("cors_allow_origins")
    @classmethod
    def _cors_origins_are_exact(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if "*" in origin:
                raise ValueError(
                    f"REELFLOW_CORS_ALLOW_ORIGINS may not contain {origin!r}: credentials are allowed, and a "
                    "wildcard would let any web site call the API as a signed-in user; list each origin instead"
                )
            url = urlparse(origin)
            if url.scheme not in ("http", "https") or not url.hostname or url.path or url.query or url.fragment:
                raise ValueError(
                    f"REELFLOW_CORS_ALLOW_ORIGINS entry {origin!r} is not an origin: write scheme://host[:port], "
                    "with no path and no trailing slash, exactly as browsers send it in the Origin header"
                )
        return origins

    webhook_secret: SecretStr = Field(
        default=SecretStr(""),
        description="The gateway-wide Standard Webhooks secret (`whsec_` + base64 of 24-64 random bytes) that signs "
        "every job's callback_url (subscriptions have secrets of their own). Empty: render requests with a "
        "callback_url are refused, since callbacks are never sent unsigned.",
    )
    webhook_timeout_sec: float = Field(
        default=10.0, gt=0, le=120, description="How long one webhook request may take (connect, send, answer)."
    )
    webhook_allow_private_targets: bool = Field(
        default=False,
        description="Allow webhooks to loopback, private (RFC 1918, fc00::/7), link-local and other non-public "
        "addresses. Off, such targets are refused when saved and again after DNS at send time (no SSRF).",
    )
    webhook_retry_delays_sec: list[float] = Field(
        default_factory=lambda: list(STANDARD_RETRY_DELAYS_SEC),
        min_length=1,
        description="The wait before each attempt of a webhook delivery (the first is normally 0); after the last "
        "one fails the delivery is failed. The default is Standard Webhooks': 0, 5 s, 5 min, 30 min, 2 h, 5 h, "
        "10 h, 10 h.",
    )
    webhook_disable_after_days: float = Field(
        default=5.0, gt=0, description="A subscription whose deliveries have all failed this long is disabled."
    )
    webhook_lease_sec: float = Field(
        default=60.0,
        gt=0,
        description="How long a replica holds a delivery it is sending; a replica that dies meanwhile leaves it "
        "to be sent again after this. Keep it above webhook_timeout_sec.",
    )
    webhook_log_retention_days: float = Field(
        default=30.0, gt=0, description="How long delivered and failed webhook deliveries stay in the delivery log."
    )
    webhook_poll_sec: float = Field(
        default=1.0, gt=0, le=60, description="How often each replica looks for webhook deliveries that are due."
    )

    schedule_poll_sec: float = Field(
        default=5.0, gt=0, le=300, description="How often the scheduler looks for schedules' items that are due."
    )
    schedule_lease_sec: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How long the replica running the scheduler holds it without renewing (it renews every pass); "
        "a replica that dies gives it up to another after this. Keep it above schedule_poll_sec.",
    )

    @model_validator(mode="after")
    def _public_s3_url_needs_s3(self) -> "GatewaySettings":
        if self.public_s3_url and self.storage_provider == "local":
            raise ValueError(
                "REELFLOW_PUBLIC_S3_URL cannot be used with REELFLOW_STORAGE_PROVIDER=local: the media is in a "
                "directory, not in S3; unset it, and the gateway streams each asset itself"
            )
        return self

    @model_validator(mode="after")
    def _schedule_lease_outlasts_a_pass(self) -> "GatewaySettings":
        if self.schedule_lease_sec <= self.schedule_poll_sec:
            raise ValueError(
                "REELFLOW_SCHEDULE_LEASE_SEC must be longer than REELFLOW_SCHEDULE_POLL_SEC, or the lease runs out "
                "between two passes and replicas take the scheduler from each other"
            )
        return self

    @model_validator(mode="after")
    def _no_placeholder_tokens_in_prod(self) -> "GatewaySettings":
        token = self.internal_token.get_secret_value()
        if self.environment == "prod" and token and len(token) < MIN_INTERNAL_TOKEN_CHARS:
            raise ValueError(
                f"REELFLOW_INTERNAL_TOKEN must be at least {MIN_INTERNAL_TOKEN_CHARS} characters when "
                "REELFLOW_ENVIRONMENT=prod"
            )
        return self

    @model_validator(mode="after")
    def _webhook_secret_is_standard(self) -> "GatewaySettings":
        secret = self.webhook_secret.get_secret_value()
        if secret and not is_webhook_secret(secret):
            raise ValueError(
                "REELFLOW_WEBHOOK_SECRET must be a Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 "
                "random bytes (e.g. python -c \"import base64,os;print('whsec_'+base64.b64encode(os.urandom(32))"
                '.decode())")'
            )
        return self
