"""Settings of the gateway: the REST API, the ledger and its MongoDB."""

from reelflow.runtime.settings import ServiceSettings


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
