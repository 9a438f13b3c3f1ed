"""A job's progress within a step, sent as ``ProgressUpdate`` events through whatever publishes them.

Kept apart from :mod:`reelflow.runtime.bus` so the engines that report progress (compose, tts, storage) can be
run and timed without loading the broker's client: anything with ``publish(event)`` will do.
"""

import time
from datetime import UTC, datetime
from typing import Protocol

import structlog

from reelflow.contracts import Event, ProgressUpdate, Step, progress_in_step


class EventPublisher(Protocol):
    async def publish(self, event: Event) -> None: ...


class ProgressReporter:
    """Reports one job's progress within a step's band; throttled, and never lower than what it already sent."""

    def __init__(self, bus: EventPublisher, *, job_id: str, attempt: int, min_interval_sec: float = 0.25) -> None:
        self._bus = bus
        self._job_id = job_id
        self._attempt = attempt
        self._min_interval_sec = min_interval_sec
        self._last_progress = -1
        self._last_sent_at = 0.0

    async def report(self, step: Step, fraction: float, message: str = "") -> None:
        progress = progress_in_step(step, fraction)
        now = time.monotonic()
        finished = fraction >= 1.0
        if progress < self._last_progress:
            return
        if progress == self._last_progress and not finished:
            return
        if not finished and now - self._last_sent_at < self._min_interval_sec:
            return
        self._last_progress, self._last_sent_at = progress, now
        structlog.contextvars.bind_contextvars(step=step.value)
        update = ProgressUpdate(
            job_id=self._job_id,
            attempt=self._attempt,
            step=step,
            progress=progress,
            message=message or step.value.replace("_", " ").lower(),
            at=datetime.now(UTC),
        )
        await self._bus.publish(update)
