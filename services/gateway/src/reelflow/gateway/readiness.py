"""Readiness of the gateway's dependencies: NATS, MongoDB and S3 checked side by side, each within a short timeout.

A dependency that hangs costs a probe at most its timeout, and never more than one check of it runs at a time: a
probe that arrives while the previous check of a dependency is still waiting joins it instead of starting another
(S3 calls hold a worker thread, so piling them up during an outage would starve the uploads that need them).
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

log = structlog.get_logger("reelflow.readiness")
CHECK_TIMEOUT_SEC = 1.0
OK = "ok"


def _forget_outcome(task: "asyncio.Task[None]") -> None:
    """Nobody may be waiting any more when a slow check finally ends; its outcome was reported as a timeout."""
    if not task.cancelled():
        task.exception()


@dataclass
class DependencyCheck:
    name: str
    check: Callable[[], Awaitable[None]]
    _running: "asyncio.Task[None] | None" = field(default=None, init=False)

    async def verdict(self, timeout_sec: float) -> str:
        """``ok``, or why the dependency counts as down; never the error's text (it may name internal hosts)."""
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self.check())
            self._running.add_done_callback(_forget_outcome)
        try:
            await asyncio.wait_for(asyncio.shield(self._running), timeout_sec)
        except TimeoutError:
            return f"down: no answer within {timeout_sec:g} s"
        except Exception as error:
            log.warning("dependency check failed", dependency=self.name, error=f"{type(error).__name__}: {error}")
            return f"down: {type(error).__name__}"
        return OK


@dataclass
class Readiness:
    checks: list[DependencyCheck]
    timeout_sec: float = CHECK_TIMEOUT_SEC

    async def verdicts(self) -> dict[str, str]:
        """Every dependency's verdict, checked concurrently: the slowest one bounds the wait."""
        found = await asyncio.gather(*(check.verdict(self.timeout_sec) for check in self.checks))
        return {check.name: verdict for check, verdict in zip(self.checks, found, strict=True)}


def readiness_body(verdicts: dict[str, str]) -> tuple[dict[str, Any], bool]:
    ready = all(verdict == OK for verdict in verdicts.values())
    down = sorted(name for name, verdict in verdicts.items() if verdict != OK)
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": verdicts}
    if down:
        body["down"] = down
    return body, ready
