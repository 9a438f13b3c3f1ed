"""Several replicas of reelflow services as real processes (``reelflow worker NAME``), for the tests that scale out
and lose a replica on purpose. Each replica serves ``/readyz`` and ``/metrics`` on a port of its own (the gateway
on its API port), logs to ``log_dir/<service>-<n>.log`` and can be killed by its pid."""

import asyncio
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.supervision import ChildProcess, stop_all
from reelflow.local.workers import GATEWAY, worker_command

# A worker drains for REELFLOW_SHUTDOWN_GRACE_SEC (20 s) on SIGTERM; it gets that and a margin.
STOP_GRACE_SEC = 25.0
_POLL_SEC = 0.25
_HTTP_TIMEOUT_SEC = 2.0


@dataclass(frozen=True)
class Replica:
    service: str
    index: int
    process: ChildProcess
    url: str  # where its /readyz and /metrics answer

    @property
    def name(self) -> str:
        return f"{self.service}-{self.index}"


class ServiceReplicas:
    """``counts`` replicas of each service, started with ``os.environ | env``; the gateway listens on
    ``gateway_port`` (one gateway replica: the port is the test's way in)."""

    def __init__(self, env: Mapping[str, str], log_dir: Path, counts: Mapping[str, int], *, gateway_port: int) -> None:
        if counts.get(GATEWAY, 0) > 1:
            raise ValueError("one gateway replica: it listens on gateway_port")
        base = os.environ | {"PYTHONUNBUFFERED": "1"} | dict(env)
        self.replicas: list[Replica] = []
        for service, count in counts.items():
            for index in range(count):
                port = gateway_port if service == GATEWAY else free_port()
                setting = "REELFLOW_GATEWAY_PORT" if service == GATEWAY else "REELFLOW_HEALTH_PORT"
                process = ChildProcess(
                    f"{service}-{index}",
                    worker_command(service),
                    env=base | {setting: str(port)},
                    log_path=log_dir / f"{service}-{index}.log",
                )
                self.replicas.append(Replica(service, index, process, f"http://{LOOPBACK}:{port}"))

    def of(self, service: str) -> list[Replica]:
        return [replica for replica in self.replicas if replica.service == service]

    def running(self) -> list[Replica]:
        return [replica for replica in self.replicas if replica.process.is_running()]

    def start(self) -> None:
        for replica in self.replicas:
            replica.process.start()

    def stop(self) -> None:
        stop_all((replica.process for replica in self.replicas), STOP_GRACE_SEC)

    def kill(self, replica: Replica) -> None:
        """SIGKILL the replica (its process group, by its pid), as a crash mid-step would."""
        replica.process.kill()

    async def wait_ready(self, timeout_sec: float) -> None:
        """Until every running replica answers ``/readyz`` with 200; raise with log tails if one exits or the time
        runs out."""
        deadline = time.monotonic() + timeout_sec
        waiting = self.running()
        async with httpx.AsyncClient(timeout=_HTTP_TIMEOUT_SEC) as client:
            while waiting:
                exited = [replica for replica in waiting if not replica.process.is_running()]
                if exited:
                    raise RuntimeError(f"replicas exited while starting:\n{self.log_tails(exited)}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"replicas not ready after {timeout_sec:g} s:\n{self.log_tails(waiting)}")
                ready = await asyncio.gather(*(self._is_ready(client, replica) for replica in waiting))
                waiting = [replica for replica, ok in zip(waiting, ready, strict=True) if not ok]
                if waiting:
                    await asyncio.sleep(_POLL_SEC)

    async def metric(self, replica: Replica, name: str, labels: Mapping[str, str]) -> float:
        """One sample of the replica's ``/metrics`` (0 when the series does not exist yet)."""
        async with httpx.AsyncClient(timeout=_HTTP_TIMEOUT_SEC) as client:
            response = await client.get(f"{replica.url}/metrics")
        response.raise_for_status()
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                if sample.name == name and sample.labels == dict(labels):
                    return sample.value
        return 0.0

    def log_tails(self, replicas: list[Replica] | None = None, lines: int = 30) -> str:
        return "\n".join(
            f"===== {replica.name} ({replica.process.describe_exit()}) =====\n{replica.process.log_tail(lines)}"
            for replica in (self.replicas if replicas is None else replicas)
        )

    @staticmethod
    async def _is_ready(client: httpx.AsyncClient, replica: Replica) -> bool:
        try:
            return (await client.get(f"{replica.url}/readyz")).status_code == httpx.codes.OK
        except httpx.HTTPError:
            return False
