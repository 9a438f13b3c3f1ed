"""Settings of the script service."""

from reelflow.runtime.settings import ServiceSettings


class ScriptSettings(ServiceSettings):
    service_name: str = "script"
    script_timeout_sec: float = 120.0
