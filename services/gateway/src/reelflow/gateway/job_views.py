"""What clients see of a render job: the API's job (the contract's job plus the gateway's record of the script
version) and the update progress listeners receive."""

from typing import Any

from pydantic import Field

from reelflow.contracts import RenderJob


class RenderJobView(RenderJob):
    """A render job as the gateway reports it.

    ``script_version`` lives in the gateway's job document, not in the contract: a job started through the REST
    API records the script version its spec was frozen from. Ranking jobs, and jobs the backend publishes straight
    to NATS, have none. A request the bus rejected (unreadable, or invalid for its contract) is a FAILED job with a
    null ``spec``: see :class:`RenderJob`.
    """

    script_version: int | None = Field(
        default=None, ge=1, description="The version of the script whose chapters and scenes the spec froze."
    )


def view_of(job: RenderJob, script_version: int | None) -> RenderJobView:
    return RenderJobView.model_validate({**job.model_dump(), "script_version": script_version})


def job_update(job: RenderJob, message: str = "") -> dict[str, Any]:
    """What progress listeners receive: the job's status, step and progress."""
    return {
        "job_id": job.job_id,
        "attempt": job.attempt,
        "status": job.status.value,
        "step": job.step.value if job.step else None,
        "progress": job.progress,
        "message": message,
        "error": job.error.model_dump(mode="json") if job.error else None,
        "at": job.updated_at.isoformat(),
    }
