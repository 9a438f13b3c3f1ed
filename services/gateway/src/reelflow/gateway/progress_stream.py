"""Server-sent events of one job: a snapshot, then live updates, never going backwards, until the job ends."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from reelflow.contracts import TERMINAL_STATUSES, JobStatus, RenderJob
from reelflow.gateway.job_views import job_update
from reelflow.gateway.progress_hub import ProgressHub

JobReader = Callable[[str], Awaitable[RenderJob | None]]


def sse_frame(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def is_terminal(update: dict[str, Any]) -> bool:
    return update.get("status") in {status.value for status in TERMINAL_STATUSES}


async def job_progress_events(
    job_id: str, *, read_job: JobReader, hub: ProgressHub, poll_sec: float, keepalive_sec: float
) -> AsyncIterator[str]:
    """Progress frames for ``job_id``; progress only rises; the stream closes with the final status.

    Live updates come from this replica's hub; MongoDB is re-read every ``poll_sec`` so a change recorded by
    another replica still reaches the listener.
    """
    async with hub.listen(job_id) as queue:
        job = await read_job(job_id)
        if job is None:
            yield sse_frame("error", {"code": "NOT_FOUND", "message": f"render job {job_id} does not exist"})
            return
        last_progress = job.progress
        attempt = job.attempt
        yield sse_frame("progress", job_update(job))
        if job.status in TERMINAL_STATUSES:
            yield sse_frame("status", job_update(job))
            return
        idle = 0.0
        while True:
            try:
                update = await asyncio.wait_for(queue.get(), timeout=poll_sec)
            except TimeoutError:
                idle += poll_sec
                job = await read_job(job_id)
                if job is None:
                    return
                update = job_update(job)
                if job.status not in TERMINAL_STATUSES and update["progress"] <= last_progress:
                    if idle >= keepalive_sec:
                        idle = 0.0
                        yield ": keep-alive\n\n"
                    continue
            idle = 0.0
            if update.get("attempt", attempt) != attempt:
                continue
            if is_terminal(update):
                if update["status"] == JobStatus.COMPLETED:
                    last_progress = 100
                yield sse_frame("progress", {**update, "progress": max(last_progress, update["progress"])})
                yield sse_frame("status", update)
                return
            if update["progress"] >= last_progress:
                last_progress = update["progress"]
                yield sse_frame("progress", update)
