"""Settings of the tts service."""

from reelflow.runtime.settings import ServiceSettings


class TtsSettings(ServiceSettings):
    service_name: str = "tts"
    scene_timeout_sec: float = 60.0
    parallel_scenes: int = 4
    trailing_silence_sec: float = 0.35
