"""The Spring backend's compatibility commands: start a job it names from the render spec it gives, and retry one.

``POST /video/job/{job_id}/start`` takes the backend's ``job_id`` and ``{script_id, video_id?}``. The gateway asks
the backend for that script's render spec (``backend_specs``), checks it like any render request, snapshots it into
the job and starts the job through the same outbox path as the REST API. Starting an id that already has a job
returns that job and asks the backend for nothing, so a repeated start never makes a second job. A retry renders the
snapshot again; the backend is not asked a second time, so a spec it changed meanwhile does not leak into the job.
"""

from typing import Annotated

from pydantic import Field, StringConstraints

from reelflow.contracts import RankingSpec
from reelflow.contracts._base import Contract
from reelflow.gateway.accounts import Caller
from reelflow.gateway.backend_specs import BackendSpecs
from reelflow.gateway.job_views import RenderJobView
from reelflow.gateway.ownership import Access, VideoKind
from reelflow.gateway.refusals import ConflictError
from reelflow.gateway.render_job_commands import RenderJobCommands, StartedJob
from reelflow.gateway.video_ids import VIDEO_ID_PATTERN, VIDEO_ID_RULE, VideoId

# The backend's ids become path segments of the job's S3 keys (videos/{video_id}/{script_id}/{job_id}/…).
BackendId = Annotated[str, StringConstraints(pattern=VIDEO_ID_PATTERN)]
BACKEND_VIDEO_PREFIX = "backend-"


class StartBackendJob(Contract):
    """Body of ``POST /video/job/{job_id}/start``.

    A bus contract rather than a REST body: the backend's ids may arrive as JSON numbers, and are read as text.
    """

    script_id: BackendId = Field(
        description=f"The backend's script whose render spec the job renders ({VIDEO_ID_RULE}); the gateway fetches "
        "GET {BACKEND_BASE_URL}/internal/scripts/{script_id}/render-spec."
    )
    video_id: VideoId | None = Field(
        default=None,
        description="The reelflow video the job belongs to (one active job per video). By default "
        "`backend-{script_id}`.",
    )

    def video(self) -> str:
        return self.video_id or f"{BACKEND_VIDEO_PREFIX}{self.script_id}"[:128]


class BackendJobs:
    def __init__(self, specs: BackendSpecs, jobs: RenderJobCommands, access: Access) -> None:
        self._specs = specs
        self._jobs = jobs
        self._access = access

    async def start(self, caller: Caller, job_id: str, body: StartBackendJob) -> StartedJob:
        """The job ``job_id`` with a snapshot of the backend's spec; the existing job when it was started before."""
        existing = await self._jobs.find_job(job_id)
        if existing is not None:
            await self._access.job(caller, job_id)  # another workspace's job is as good as absent: 404
            if existing.script_id != body.script_id:
                raise ConflictError(
                    f"render job {job_id} was started for script {existing.script_id}, not {body.script_id}",
                    details={"script_id": existing.script_id},
                )
            return StartedJob(await self._jobs.job(job_id), created=False)
        fetched = await self._specs.render_spec(body.script_id)
        await self._access.spec_media(caller, fetched.spec)
        kind = VideoKind.RANKING if isinstance(fetched.spec, RankingSpec) else VideoKind.LESSON
        async with self._access.video_for(caller, body.video(), kind, fetched.spec.title) as video:
            return await self._jobs.start_backend_job(
                job_id,
                video.video_id,
                fetched.spec,
                script_id=body.script_id,
                script_version=fetched.script_version,
            )

    async def retry(self, caller: Caller, job_id: str) -> RenderJobView:
        """Attempt + 1 of a FAILED or CANCELED job, from the spec it snapshotted."""
        await self._access.job(caller, job_id)
        return await self._jobs.retry(job_id)
