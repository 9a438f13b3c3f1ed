"""Settings of the storage service."""

from pydantic import Field

from reelflow.runtime.settings import ServiceSettings


class StorageSettings(ServiceSettings):
    service_name: str = "storage"
    # The backstop sweep of the work bucket (see scratch_sweep): how often it runs, and how old an attempt's
    # newest scratch file must be before it goes: ended attempts after an hour, any attempt idle for two days.
    scratch_sweep_interval_sec: float = Field(default=600.0, gt=0)
    scratch_sweep_ended_age_sec: float = Field(default=3600.0, ge=0)
    scratch_sweep_idle_age_sec: float = Field(default=2 * 24 * 3600.0, ge=3600)
