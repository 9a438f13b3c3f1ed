"""Settings of the uploader service."""

from reelflow.runtime.settings import ServiceSettings


class UploaderSettings(ServiceSettings):
    service_name: str = "uploader"
