"""Runs the six reelflow services as supervised processes and waits until each one is ready.

The processes are forked from the worker launcher's preloaded server (see :mod:`reelflow.local.worker_launcher`), so
starting or restarting one costs only the imports of its own service.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from reelflow.local import worker_launcher
from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.restarts import RestartPolicy, RestartSupervisor
from reelflow.local.supervision import LOG_TAIL_LINES, stop_all
from reelflow.local.worker_launcher import ForkedWorker

if TYPE_CHECKING:
    import httpx
    from nats.aio.client import Client as NatsClient

SERVICE_NAMES = ("script", "tts", "compose", "storage", "uploader", "gateway")
# The durable consumer each service holds on the stream; the gateway's is its ledger.
DURABLE_NAMES: Mapping[str, str] = {
    "script": "script",
    "tts": "tts",
    "compose": "compose",
    "storage": "storage",
    "uploader": "uploader",
    "gateway": "ledger",
}
GATEWAY = "gateway"
# A worker drains for REELFLOW_SHUTDOWN_GRACE_SEC (20 s by default) on SIGTERM; it gets that and a margin
# before its process group is killed.
DEFAULT_DRAIN_SEC = 20.0
STOP_MARGIN_SEC = 5.0
DEFAULT_RESTART_POLICY = RestartPolicy()
# Readiness is polled over loopback HTTP, which costs next to nothing; a long interval only makes a start slower.
_POLL_INTERVAL_SEC = 0.05
_CHECK_TIMEOUT_SEC = 2.0


class WorkerStartError(RuntimeError):
    """Services did not become ready; the message says which and ends with their log tails."""

    def __init__(self, reason: str, not_ready: Mapping[str, str], log_tails: str) -> None:
        self.not_ready = dict(not_ready)
        self.log_tails = log_tails
        lines = [reason, *(f"  {name}: {why}" for name, why in sorted(not_ready.items()))]
        if log_tails:
            lines.append(log_tails)
        super().__init__("\n".join(lines))


def worker_command(name: str) -> list[str]:
    """``reelflow worker NAME`` run with this interpreter, for running one service on its own (a WorkerGroup forks
    its workers from the launcher instead)."""
    return [sys.executable, "-m", "reelflow.cli.main", "worker", name]


class WorkerGroup:
    """Supervises one process per service, each logging to ``log_dir/<service>.log``.

    Each worker gets ``os.environ | env`` and a health port of its own (``REELFLOW_HEALTH_PORT``, kept across
    restarts), so several groups run side by side on one machine.
    """

    def __init__(self, env: Mapping[str, str], log_dir: Path, services: Sequence[str] = SERVICE_NAMES) -> None:
        unknown = sorted(set(services) - set(SERVICE_NAMES))
        if unknown:
            raise ValueError(f"unknown services {unknown}; known: {', '.join(SERVICE_NAMES)}")
        self.env = dict(env)
        self.log_dir = log_dir
        self.services = tuple(services)
        self._processes: dict[str, ForkedWorker] = {}
        self._health_ports: dict[str, int] = {}
        self._lock = threading.RLock()
        self._supervisor: RestartSupervisor | None = None
        # The workers' own drain time, from the environment they get (this process's, then ``env``).
        drain_sec = (os.environ | self.env).get("REELFLOW_SHUTDOWN_GRACE_SEC", DEFAULT_DRAIN_SEC)
        self.stop_grace_sec = float(drain_sec) + STOP_MARGIN_SEC

    def start(self) -> None:
        """Start every service; each leads its own process group."""
        if self._processes:
            raise RuntimeError("the worker group is already started")
        worker_launcher.warm_up()
        # What wait_ready needs, imported now: the forks below wait for the launcher's own imports anyway, and the
        # check that follows them then waits on nothing. (Not at the top: the CLI imports this module for names.)
        import httpx  # noqa: F401
        import nats  # noqa: F401

        env = os.environ | self.env
        self._health_ports = {name: free_port() for name in self.services}
        self._processes = {
            name: ForkedWorker(
                name,
                env=env | {"REELFLOW_HEALTH_PORT": str(self._health_ports[name])},
                log_path=self.log_path(name),
            )
            for name in self.services
        }
        try:
            for process in self._processes.values():
                process.start()
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, nats_url: str, gateway_url: str, timeout_sec: float = 60) -> None:
        """Block until every service is ready; see :meth:`wait_ready_async` (which async code should call)."""
        # A loop factory keeps the Runner from installing, then clearing, this thread's current event loop,
        # which a caller such as pytest-asyncio may rely on.
        with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
            runner.run(self.wait_ready_async(nats_url, gateway_url, timeout_sec))

    async def wait_ready_async(self, nats_url: str, gateway_url: str, timeout_sec: float = 60) -> None:
        """Wait until every service answers 200 on ``/readyz`` (a worker on its health port, the gateway at
        ``gateway_url``) and holds its durable consumer on the stream, or raise WorkerStartError: at once when an
        unsupervised process exits, else at the deadline.
        """
        import httpx

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_sec
        not_ready = dict.fromkeys(self.services, "not checked yet")
        async with httpx.AsyncClient(timeout=_CHECK_TIMEOUT_SEC) as http:
            while True:
                if self._supervisor is None:  # supervised workers that exit are restarted, not fatal
                    self._raise_if_any_exited(not_ready)
                names = list(not_ready)
                problems = await asyncio.gather(*(self._readiness_problem(name, http, gateway_url) for name in names))
                not_ready = {name: problem for name, problem in zip(names, problems, strict=True) if problem}
                if not not_ready:
                    # Each /readyz says its consumers have started; confirm that on the stream itself, once.
                    not_ready = await self._without_durable_consumer(nats_url)
                    if not not_ready:
                        return
                if loop.time() >= deadline:
                    raise WorkerStartError(
                        f"services not ready after {timeout_sec:g} s:",
                        not_ready,
                        self.log_tails(names=list(not_ready)),
                    )
                await asyncio.sleep(_POLL_INTERVAL_SEC)

    def health_url(self, name: str) -> str:
        """Where a worker answers ``/healthz`` and ``/readyz`` (the gateway answers on its own API port)."""
        return f"http://{LOOPBACK}:{self._health_ports[name]}"

    def supervise(
        self,
        policy: RestartPolicy = DEFAULT_RESTART_POLICY,
        on_restart: Callable[[str, str, float], None] | None = None,
    ) -> RestartSupervisor:
        """From now on, restart any service that dies (crash, kill -9, or its own watchdog), with backoff."""
        if self._supervisor is None:
            self._supervisor = RestartSupervisor(self._processes, self._lock, policy=policy, on_restart=on_restart)
            self._supervisor.start()
        return self._supervisor

    def stop(self) -> None:
        """Stop supervising, SIGTERM every service, let each drain (its grace + a margin), then SIGKILL. Idempotent."""
        if self._supervisor is not None:
            self._supervisor.stop()
        with self._lock:
            stop_all(self._processes.values(), self.stop_grace_sec)

    def restart(self, name: str) -> None:
        """Stop one service (gracefully, or reap it if it was killed) and start it again."""
        with self._lock:
            process = self._process(name)
            process.stop(self.stop_grace_sec)
            process.start()
            if self._supervisor is not None:
                self._supervisor.forget_deaths(name)

    def kill(self, name: str) -> None:
        """SIGKILL one service, as a crash mid-step would; ``restart`` (or supervision) brings it back."""
        with self._lock:
            self._process(name).kill()

    def pid(self, name: str) -> int | None:
        return self._process(name).pid

    def is_running(self, name: str) -> bool:
        return self._process(name).is_running()

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def log_tails(self, lines: int = LOG_TAIL_LINES, names: Sequence[str] | None = None) -> str:
        """The end of each service's log (all of them unless ``names``), headed by its state."""
        return "\n".join(
            f"===== {name} ({process.describe_exit()}) =====\n{process.log_tail(lines)}"
            for name, process in self._processes.items()
            if names is None or name in names
        )

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _process(self, name: str) -> ForkedWorker:
        try:
            return self._processes[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a started service of this group ({', '.join(self.services)})") from None

    def _raise_if_any_exited(self, not_ready: Mapping[str, str]) -> None:
        exited = {
            name: process.describe_exit() for name, process in self._processes.items() if process.returncode is not None
        }
        if exited:
            raise WorkerStartError(
                "a service exited while starting:", dict(not_ready) | exited, self.log_tails(names=list(exited))
            )

    async def _readiness_problem(self, name: str, http: httpx.AsyncClient, gateway_url: str) -> str | None:
        """None when ``name`` answers 200 on ``/readyz``, else what went wrong."""
        import httpx

        base = gateway_url if name == GATEWAY else self.health_url(name)
        url = f"{base.rstrip('/')}/readyz"
        try:
            response = await http.get(url)
        except httpx.HTTPError as error:
            return f"GET {url} failed ({type(error).__name__}: {error})"
        if response.status_code != httpx.codes.OK:
            return f"GET {url} answered {response.status_code}: {response.text[:200]}"
        return None

    async def _without_durable_consumer(self, nats_url: str) -> dict[str, str]:
        """The services whose durable consumer is missing from the stream, each with why."""
        import nats
        import nats.errors

        from reelflow.contracts import STREAM_NAME

        try:
            connection: NatsClient = await nats.connect(
                nats_url, connect_timeout=int(_CHECK_TIMEOUT_SEC), allow_reconnect=False
            )
        except (OSError, TimeoutError, nats.errors.Error) as error:
            return dict.fromkeys(self.services, f"cannot connect to NATS at {nats_url}: {error}")
        missing = {}
        try:
            js = connection.jetstream(timeout=_CHECK_TIMEOUT_SEC)
            for name in self.services:
                durable = DURABLE_NAMES[name]
                try:
                    await js.consumer_info(STREAM_NAME, durable)
                except (TimeoutError, nats.errors.Error) as error:
                    missing[name] = (
                        f"no durable consumer {durable!r} on stream {STREAM_NAME} ({type(error).__name__}: {error})"
                    )
        finally:
            await connection.close()
        return missing
