"""Settings of the compose service."""

import os
from pathlib import Path

from pydantic import Field

from reelflow.runtime.settings import ServiceSettings


class ComposeSettings(ServiceSettings):
    service_name: str = "compose"
    compose_font_path: Path | None = None
    compose_parallelism: int = max(1, os.cpu_count() or 2)
    compose_step_timeout_sec: float = 900.0
    # Crossfade between scenes of an animated lesson (REELFLOW_COMPOSE_TRANSITION_SEC); 0 gives hard cuts.
    compose_transition_sec: float = Field(default=0.5, ge=0, le=5)
