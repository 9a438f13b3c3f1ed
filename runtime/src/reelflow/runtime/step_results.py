"""A step's recorded result per job attempt: what makes a redelivered message republish instead of redo."""

from typing import TypeVar

from reelflow.contracts import Event
from reelflow.runtime.blobs import BlobStore, work_prefix

EventT = TypeVar("EventT", bound=Event)


def result_key(job_id: str, attempt: int, step_name: str) -> str:
    return f"{work_prefix(job_id, attempt)}{step_name}.json"


async def recorded_result(blobs: BlobStore, bucket: str, key: str, event_type: type[EventT]) -> EventT | None:
    """The event this step already produced for the attempt, or None when it has not finished before."""
    if await blobs.stat(bucket, key) is None:
        return None
    return event_type.model_validate_json(await blobs.get_bytes(bucket, key))


async def record_result(blobs: BlobStore, bucket: str, key: str, event: Event) -> None:
    await blobs.put_bytes(bucket, key, event.model_dump_json().encode(), "application/json")
