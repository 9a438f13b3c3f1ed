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
