"""The settings base every service extends: one env var per setting, prefix ``REELFLOW_``, built in the factory."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_S3_SECRET = "reelflow-dev-secret"  # noqa: S105 - the embedded stack's local-only default, refused in prod
_PLACEHOLDER_SECRETS = frozenset({DEV_S3_SECRET, "changeme", "change-me", "secret", "minioadmin", ""})


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REELFLOW_", extra="ignore", frozen=True)

    environment: Literal["dev", "prod"] = "dev"
    service_name: str = "reelflow"

    nats_url: str = "nats://127.0.0.1:4222"
    nats_connect_timeout_sec: float = 5.0
    # Reconnects never stop; this is the (jittered) wait between tries, so a service is back within seconds of NATS.
    nats_reconnect_wait_sec: float = Field(default=2.0, ge=1, le=30)
    nats_ping_interval_sec: float = Field(default=10.0, ge=1, le=300)
    nats_drain_timeout_sec: float = Field(default=5.0, ge=1, le=60)
    # 3 on a 3-node JetStream cluster: the REELFLOW stream and the attempts record are replicated that many times.
    stream_replicas: int = Field(default=1, ge=1, le=5)
    publish_timeout_sec: float = 10.0

    s3_endpoint: str = "http://127.0.0.1:9000"
    s3_access_key: str = "reelflow"
    s3_secret_key: SecretStr = SecretStr(DEV_S3_SECRET)
    s3_region: str = "us-east-1"
    s3_timeout_sec: float = 60.0
    work_bucket: str = "reelflow-work"
    media_bucket: str = "reelflow-media"
    # Where media lives (both buckets): ``s3`` (MinIO or AWS, REELFLOW_S3_*); ``local``, folders under
    # REELFLOW_STORAGE_LOCAL_DIR, for one machine whose services all see that directory; ``backend_presigned``, S3
    # as for ``s3``, and every finished asset is also PUT where the Spring backend's presigned URL says, the
    # backend's URL being the asset's URL (services/storage: asset_destinations).
    storage_provider: Literal["s3", "local", "backend_presigned"] = "s3"
    storage_local_dir: Path = Path("reelflow-media")

    # Every worker serves GET /healthz (liveness) and GET /readyz (readiness) on this port.
    # The gateway answers both on its own HTTP port instead. Kubernetes sets the host to 0.0.0.0.
    health_host: str = "127.0.0.1"
    health_port: int = Field(default=8080, ge=1, le=65535)
    # SIGTERM: stop fetching, let in-flight work finish (or hand it back) within this grace, then exit 0.
    shutdown_grace_sec: float = Field(default=20.0, gt=0, le=600)

    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    otel_console_export: bool = False

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_prod(self) -> "ServiceSettings":
        if self.environment == "prod" and self.s3_secret_key.get_secret_value() in _PLACEHOLDER_SECRETS:
            raise ValueError(
                "REELFLOW_S3_SECRET_KEY is a placeholder; set a real secret when REELFLOW_ENVIRONMENT=prod"
            )
        return self
