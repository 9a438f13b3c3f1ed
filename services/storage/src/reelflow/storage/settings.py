"""Settings of the storage service."""

from pydantic import Field, model_validator

from reelflow.runtime.backend_connection import BackendSettings


class StorageSettings(BackendSettings):
    service_name: str = "storage"
    # The backstop sweep of the work bucket (see scratch_sweep): how often it runs, and how old an attempt's
    # newest scratch file must be before it goes: ended attempts after an hour, any attempt idle for two days.
    scratch_sweep_interval_sec: float = Field(default=600.0, gt=0)
    scratch_sweep_ended_age_sec: float = Field(default=3600.0, ge=0)
    scratch_sweep_idle_age_sec: float = Field(default=2 * 24 * 3600.0, ge=3600)

    @model_validator(mode="after")
    def _backend_presigned_needs_a_backend(self) -> "StorageSettings":
        if self.storage_provider == "backend_presigned" and not self.backend_base_url:
            raise ValueError(
                "REELFLOW_STORAGE_PROVIDER=backend_presigned needs the Spring backend that hands out upload URLs: "
                "set BACKEND_BASE_URL (and BACKEND_API_TOKEN), or choose the s3 or local provider"
            )
        return self
