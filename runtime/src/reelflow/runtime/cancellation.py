"""Cancel tokens of the job attempts this process is working on: a canceled attempt's subprocess is killed.

Tokens live only while an attempt's step runs here. Whether an attempt was canceled for good is the bus-wide
record in :mod:`reelflow.runtime.attempts`; nothing is remembered here, so a retry (attempt + 1) always runs.
"""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from reelflow.runtime.failures import JobCanceledError

AttemptId = tuple[str, int]


class CancelToken:
    """Set once when the attempt is canceled; long-running work polls or awaits it."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.reason = ""

    def cancel(self, reason: str = "canceled by request") -> None:
        self.reason = reason
        self._event.set()

    @property
    def is_canceled(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> None:
        await self._event.wait()

    def raise_if_canceled(self) -> None:
        if self.is_canceled:
            raise JobCanceledError(f"job was canceled: {self.reason}")


class CancellationRegistry:
    """Tokens by ``(job_id, attempt)`` for the steps running in this process."""

    def __init__(self) -> None:
        self._running: dict[AttemptId, CancelToken] = {}

    @contextmanager
    def running(self, job_id: str, attempt: int) -> Iterator[CancelToken]:
        """The attempt's token while a step of it runs here; forgotten when the step ends."""
        key = (job_id, attempt)
        token = self._running.get(key)
        owner = token is None
        if token is None:
            token = self._running[key] = CancelToken()
        try:
            yield token
        finally:
            if owner:
                self._running.pop(key, None)

    def token_for(self, job_id: str, attempt: int) -> CancelToken:
        """The running attempt's token (a fresh, unshared one when no step of it runs here)."""
        return self._running.get((job_id, attempt)) or CancelToken()

    def cancel(self, job_id: str, attempt: int, reason: str = "canceled by request") -> bool:
        """Cancel the attempt's running work; False when none of it runs in this process."""
        token = self._running.get((job_id, attempt))
        if token is None:
            return False
        token.cancel(reason)
        return True
