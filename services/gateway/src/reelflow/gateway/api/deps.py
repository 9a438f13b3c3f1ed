"""FastAPI dependencies: the gateway's process-wide state, as ``Annotated`` aliases for routes."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from reelflow.gateway.progress_hub import ProgressHub
from reelflow.gateway.readiness import Readiness
from reelflow.gateway.render_job_commands import RenderJobCommands
from reelflow.gateway.script_commands import ScriptCommands
from reelflow.gateway.settings import GatewaySettings
from reelflow.runtime.blobs import PresignedLinks
from reelflow.runtime.service import ServiceRuntime


@dataclass
class GatewayState:
    settings: GatewaySettings
    runtime: ServiceRuntime[GatewaySettings]
    scripts: ScriptCommands
    jobs: RenderJobCommands
    hub: ProgressHub
    readiness: Readiness
    public_links: PresignedLinks | None = None  # set with REELFLOW_PUBLIC_S3_URL: assets are redirected there


def gateway_state(connection: HTTPConnection) -> GatewayState:
    """The state of the app serving this request or WebSocket."""
    state: GatewayState = connection.app.state.gateway
    return state


def _scripts(state: Annotated[GatewayState, Depends(gateway_state)]) -> ScriptCommands:
    return state.scripts


def _jobs(state: Annotated[GatewayState, Depends(gateway_state)]) -> RenderJobCommands:
    return state.jobs


StateDep = Annotated[GatewayState, Depends(gateway_state)]
ScriptsDep = Annotated[ScriptCommands, Depends(_scripts)]
JobsDep = Annotated[RenderJobCommands, Depends(_jobs)]
