"""FastAPI dependencies: the gateway's process-wide state, as ``Annotated`` aliases for routes."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from reelflow.gateway.ledger import Ledger
from reelflow.gateway.progress_hub import ProgressHub
from reelflow.gateway.settings import GatewaySettings
from reelflow.gateway.store import LedgerStore
from reelflow.runtime.service import ServiceRuntime


@dataclass
class GatewayState:
    settings: GatewaySettings
    runtime: ServiceRuntime[GatewaySettings]
    store: LedgerStore
    ledger: Ledger
    hub: ProgressHub


def gateway_state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


def _ledger(state: Annotated[GatewayState, Depends(gateway_state)]) -> Ledger:
    return state.ledger


StateDep = Annotated[GatewayState, Depends(gateway_state)]
LedgerDep = Annotated[Ledger, Depends(_ledger)]
