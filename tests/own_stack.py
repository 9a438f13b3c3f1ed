"""A stack of one test's own: its servers and its six workers, for tests that stop NATS or kill workers, which the
session's shared stack must never see."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.restarts import RestartPolicy
from reelflow.local.servers import EmbeddedStack, StackEndpoints
from reelflow.local.workers import WorkerGroup
from tests.process_tree import alive, descendants

READY_TIMEOUT_SEC = 120.0
# Restarts quick enough for a test to watch: the first after half a second, none later than 5 s.
QUICK_RESTARTS = RestartPolicy(first_delay_sec=0.5, max_delay_sec=5.0, healthy_after_sec=30.0)


@dataclass(frozen=True)
class OwnStack:
    stack: EmbeddedStack
    endpoints: StackEndpoints
    workers: WorkerGroup
    gateway_url: str


@contextmanager
def own_stack(
    folder: Path,
    *,
    env: Mapping[str, str] | None = None,
    restarts: RestartPolicy | None = None,
    ready_timeout_sec: float = READY_TIMEOUT_SEC,
) -> Iterator[OwnStack]:
    """Start the servers under ``folder`` and the workers with ``env`` added to theirs, supervised as `reelflow up`
    supervises them when ``restarts`` is given; wait until every one is ready, and stop all of it afterwards."""
    stack = EmbeddedStack(folder / "stack")
    endpoints = stack.start()
    gateway_port = free_port()
    workers = WorkerGroup(
        endpoints.service_env() | {"REELFLOW_GATEWAY_PORT": str(gateway_port)} | dict(env or {}), folder / "logs"
    )
    workers.start()
    try:
        if restarts is not None:
            workers.supervise(restarts)
        gateway_url = f"http://{LOOPBACK}:{gateway_port}"
        workers.wait_ready(endpoints.nats_url, gateway_url, timeout_sec=ready_timeout_sec)
        yield OwnStack(stack, endpoints, workers, gateway_url)
    finally:
        workers.stop()
        stack.stop()


def ffmpeg_under(pid: int) -> set[int]:
    """The running FFmpeg processes below ``pid`` (never another test's or another program's)."""
    found = set()
    for child in descendants(pid):
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == "ffmpeg" and alive(child):
                found.add(child)
        except OSError:
            continue
    return found
