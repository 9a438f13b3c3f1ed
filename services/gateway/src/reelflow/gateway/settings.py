"""Settings of the gateway: the REST API, the ledger and its MongoDB."""

from pydantic import Field, SecretStr, model_validator

from reelflow.gateway.webhook_schedule import STANDARD_RETRY_DELAYS_SEC
from reelflow.gateway.webhook_signing import is_webhook_secret
from reelflow.runtime.settings import ServiceSettings

MIB = 1024 * 1024
MIN_INTERNAL_TOKEN_CHARS = 24


class GatewaySettings(ServiceSettings):
    """The gateway's settings (env ``REELFLOW_<NAME>``)."""

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
    youtube_client_id: str = Field(
        default="",
        description="The uploader's REELFLOW_YOUTUBE_CLIENT_ID, given to the gateway too: when set, render requests "
        "may ask to publish to YouTube; when not, `publish` is refused at submit instead of failing after the render.",
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
        description="The Spring backend's X-Internal-Token; empty turns that way in off.",
    )
    internal_workspace: str = Field(
        default="default", description="The workspace whose things the backend's internal token acts on."
    )
    session_lifetime_hours: float = Field(default=12.0, gt=0, le=24 * 30, description="How long a sign-in lasts.")
    session_cookie_secure: bool | None = Field(
        default=None,
        description="Mark the session cookie Secure; unset means: when the request came over https.",
    )
    rate_limit_window_sec: int = Field(default=60, ge=1, le=3600, description="The window the budgets count in.")
    rate_limit_requests: int = Field(
        default=600, ge=1, description="Requests per window for one API key or one signed-in person."
    )
    rate_limit_writes: int = Field(
        default=60, ge=1, description="Of those, how many may change something (POST, PUT, PATCH, DELETE)."
    )
    rate_limit_sign_ins: int = Field(default=10, ge=1, description="Sign-in attempts per window from one address.")

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

    cors_allow_origins: list[str] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) whose pages may call the API with credentials; also the "
        "origins a cookie-signed WebSocket may come from besides the gateway's own.",
    )
