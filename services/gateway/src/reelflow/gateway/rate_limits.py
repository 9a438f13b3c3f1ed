"""Request budgets per key and per person, counted in MongoDB so every gateway replica shares them.

A fixed window: each (caller, window) is one counter document, incremented atomically. A burst at a window's edge
can pass up to twice the budget, a price paid for one write per request and no clock agreement between replicas
beyond their wall clocks.
"""

import math
import time
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient, ReturnDocument

from reelflow.gateway.refusals import RateLimitedError

Document = dict[str, Any]
# Old windows are swept about this often (per replica), so the collection stays a few documents per caller.
SWEEP_EVERY_SEC = 60.0


@dataclass(frozen=True)
class Budget:
    """``requests`` per ``window_sec``: for every request, or for the writes (anything but GET/HEAD) among them."""

    name: str
    requests: int
    window_sec: int


class RateLimiter:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._windows = client[database]["rate_windows"]
        self._swept_at = 0.0

    async def spend(self, budget: Budget, caller_key: str, *, now: float | None = None) -> None:
        """Count one request of ``caller_key`` against ``budget``; refuse it (429) once the window's budget is spent."""
        now = time.time() if now is None else now
        window = math.floor(now / budget.window_sec)
        window_end = (window + 1) * budget.window_sec
        counter = await self._windows.find_one_and_update(
            {"_id": f"{budget.name}:{caller_key}:{window}"},
            # $set rather than $setOnInsert, which the MongoDB-wire server here ignores; the value is the same on
            # every write of the window anyway, and epoch seconds (see stored_times).
            {"$inc": {"count": 1}, "$set": {"expires_at": float(window_end)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        await self._sweep(now)
        if counter is not None and counter["count"] > budget.requests:
            wait = max(1, math.ceil(window_end - now))
            raise RateLimitedError(
                f"too many requests: {budget.requests} {budget.name} per {budget.window_sec} s are allowed for one "
                f"key or user; try again in {wait} s",
                retry_after_sec=wait,
            )

    async def _sweep(self, now: float) -> None:
        if now - self._swept_at < SWEEP_EVERY_SEC:
            return
        self._swept_at = now
        await self._windows.delete_many({"expires_at": {"$lt": now - 1}})
