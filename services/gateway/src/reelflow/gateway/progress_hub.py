"""Fans live job updates out to SSE/WebSocket listeners of this gateway replica."""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

QUEUE_LIMIT = 256


class ProgressHub:
    def __init__(self) -> None:
        self._listeners: defaultdict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    @asynccontextmanager
    async def listen(self, job_id: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self._listeners[job_id].add(queue)
        try:
            yield queue
        finally:
            self._listeners[job_id].discard(queue)
            if not self._listeners[job_id]:
                del self._listeners[job_id]

    def announce(self, job_id: str, update: dict[str, Any]) -> None:
        for queue in self._listeners.get(job_id, ()):
            if queue.full():
                # A slow listener loses the oldest update, never the newest (progress is cumulative).
                queue.get_nowait()
            queue.put_nowait(update)
