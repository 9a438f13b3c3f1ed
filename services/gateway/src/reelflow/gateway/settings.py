"""Settings of the gateway: the REST API, the ledger and its MongoDB."""

from pydantic import Field

from reelflow.runtime.settings import ServiceSettings

MIB = 1024 * 1024


class GatewaySettings(ServiceSettings):
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
