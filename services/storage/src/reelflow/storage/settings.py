"""Settings of the storage service."""

from reelflow.runtime.settings import ServiceSettings


class StorageSettings(ServiceSettings):
    service_name: str = "storage"
