"""What the API shows of a render job: the contract's job plus the gateway's own record of the script version."""

from pydantic import Field

from reelflow.contracts import RenderJob


class RenderJobView(RenderJob):
    """A render job as the gateway reports it.

    ``script_version`` lives in the gateway's job document, not in the contract: a job started through the REST
    API records the script version its spec was frozen from. Ranking jobs, and jobs the backend publishes straight
    to NATS, have none.
    """

    script_version: int | None = Field(
        default=None, ge=1, description="The version of the script whose chapters and scenes the spec froze."
    )


def view_of(job: RenderJob, script_version: int | None) -> RenderJobView:
    return RenderJobView.model_validate({**job.model_dump(), "script_version": script_version})
