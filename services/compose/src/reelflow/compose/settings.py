"""Settings of the compose service."""

import os
from pathlib import Path

from pydantic import Field, SecretStr

from reelflow.runtime.settings import ServiceSettings


class ComposeSettings(ServiceSettings):
    service_name: str = "compose"
    compose_font_path: Path | None = None
    compose_parallelism: int = max(1, os.cpu_count() or 2)
    compose_step_timeout_sec: float = 900.0
    # Crossfade between scenes of an animated lesson (REELFLOW_COMPOSE_TRANSITION_SEC); 0 gives hard cuts.
    compose_transition_sec: float = Field(default=0.5, ge=0, le=5)
    # Images for scenes whose `visual` is a prompt: an OpenAI Images API (or compatible). Both set → on;
    # unset → prompt visuals are left out of the slides (the job logs a warning per scene).
    images_base_url: str | None = None
    images_model: str | None = None
    images_api_key: SecretStr | None = None
    images_timeout_sec: float = Field(default=120.0, gt=0)

    @property
    def images_configured(self) -> bool:
        return bool(self.images_base_url and self.images_model)
