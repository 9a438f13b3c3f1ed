"""Whether a worker is alive and ready: its NATS connection and each consume loop, as probes and a watchdog see it.

FastStream's pull loop retries a failing ``fetch`` at once, so an error that repeats (a deleted consumer, a closed
connection) would spin the loop at full speed. :func:`watch_fetches` wraps each pull subscription's ``fetch`` to
record every completed pull cycle and to back off after an error; the liveness verdict is built from those
records, so it reflects the loop itself and not just the socket.
"""

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from nats.aio.client import Client as NatsClient

log = structlog.get_logger("reelflow.liveness")

# An idle loop completes a pull at least every PULL_TIMEOUT_SEC (5 s); one silent for this long is stuck.
STALL_AFTER_SEC = 30.0
ERROR_BACKOFF_START_SEC = 0.5
ERROR_BACKOFF_CAP_SEC = 5.0


@dataclass
class ConsumeLoop:
    """One durable consumer's loop in this process."""

    durable: str
    last_cycle_at: float = field(default_factory=time.monotonic)
    in_flight: int = 0
    consecutive_errors: int = 0
    last_error: str = ""

    def completed_cycle(self) -> None:
        self.last_cycle_at = time.monotonic()
        self.consecutive_errors = 0
        self.last_error = ""

    def failed_cycle(self, error: BaseException) -> float:
        """Record a failed pull; returns how long to wait before the loop pulls again."""
        self.consecutive_errors += 1
        self.last_error = f"{type(error).__name__}: {error}"
        return min(ERROR_BACKOFF_CAP_SEC, ERROR_BACKOFF_START_SEC * 2.0 ** (self.consecutive_errors - 1))

    def problem(self, now: float) -> str | None:
        """Why the loop is not alive, or None. A loop busy with a message is alive however long the step runs."""
        if self.in_flight:
            return None
        silent = now - self.last_cycle_at
        if silent < STALL_AFTER_SEC:
            return None
        reason = f"no pull completed for {silent:.0f}s"
        return f"{reason} (last error: {self.last_error})" if self.last_error else reason


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checks: dict[str, str]

    def body(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "failing", "checks": self.checks}


class WorkerHealth:
    """The state probes read: set up by the service runtime, updated by the delivery middleware."""

    def __init__(self) -> None:
        self.connection: NatsClient | None = None
        self.started = False
        self.loops: dict[str, ConsumeLoop] = {}

    def loop(self, durable: str) -> ConsumeLoop:
        return self.loops.setdefault(durable, ConsumeLoop(durable))

    @contextmanager
    def handling(self, durable: str) -> Iterator[None]:
        """Mark a message of ``durable`` in flight for as long as its handler runs."""
        loop = self.loop(durable)
        loop.in_flight += 1
        try:
            yield
        finally:
            loop.in_flight -= 1
            loop.completed_cycle()

    def connection_state(self) -> str:
        if self.connection is None:
            return "not connected yet"
        if self.connection.is_closed:
            return "closed"
        if self.connection.is_connected:
            return "connected"
        return "reconnecting"

    def liveness(self) -> Verdict:
        """Alive: the connection has not given up (reconnecting is alive) and no consume loop is stuck."""
        now = time.monotonic()
        checks = {"nats": self.connection_state()}
        ok = checks["nats"] != "closed"
        for durable, loop in self.loops.items():
            problem = loop.problem(now)
            checks[f"consumer {durable}"] = problem or "consuming"
            ok = ok and problem is None
        return Verdict(ok, checks)

    def readiness(self) -> Verdict:
        """Ready: started, connected, and alive."""
        alive = self.liveness()
        ok = alive.ok and self.started and alive.checks["nats"] == "connected"
        checks = dict(alive.checks)
        if not self.started:
            checks["startup"] = "not finished"
        return Verdict(ok, checks)


def watch_fetches(subscription: Any, loop: ConsumeLoop) -> None:
    """Wrap a pull subscription's ``fetch``: record each cycle, and back off after an error instead of spinning."""
    original: Callable[..., Awaitable[Any]] = subscription.fetch

    async def fetch(*args: Any, **kwargs: Any) -> Any:
        try:
            result = await original(*args, **kwargs)
        except TimeoutError:  # an idle pull: nats' TimeoutError is an asyncio/builtin TimeoutError
            loop.completed_cycle()
            raise
        except Exception as error:  # ConnectionClosedError, APIError (e.g. a deleted consumer), …
            delay = loop.failed_cycle(error)
            log.warning("pull failed; backing off", consumer=loop.durable, error=loop.last_error, retry_in_sec=delay)
            await asyncio.sleep(delay)
            raise
        loop.completed_cycle()
        return result

    subscription.fetch = fetch


async def exit_when_dead(health: WorkerHealth, *, grace_sec: float, every_sec: float = 5.0) -> None:
    """Ask this process to stop (SIGTERM to itself) once it has failed liveness for ``grace_sec`` on end.

    Kubernetes restarts such a pod from its liveness probe; under ``reelflow up`` this watchdog is what turns a
    stuck worker into an exited one, which the supervisor then restarts.
    """
    failing_since: float | None = None
    while True:
        await asyncio.sleep(every_sec)
        verdict = health.liveness()
        if verdict.ok:
            failing_since = None
            continue
        now = time.monotonic()
        failing_since = failing_since or now
        if now - failing_since >= grace_sec:
            log.error("worker failed liveness; stopping so that it is restarted", checks=verdict.checks)
            os.kill(os.getpid(), signal.SIGTERM)
            return
