"""The library: lists of a workspace's videos, jobs and scripts; a video's summary, review, comments and deletion."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from reelflow.contracts import JobStatus, ScriptStatus
from reelflow.gateway.api.deps import AccessDep, LibraryDep, Reader, Renderer, ScriptWriter
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.video_ids import VIDEO_ID_PATTERN
from reelflow.gateway.video_library import (
    MAX_PAGE,
    Comment,
    CommentChange,
    JobPage,
    NewComment,
    Review,
    ReviewDecision,
    ScriptPage,
    VideoPage,
    VideoSummary,
)

router = APIRouter(prefix="/api", tags=["library"])

VideoIdPath = Annotated[str, Path(pattern=VIDEO_ID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")]
NO_VIDEO = {404: "No such video in this workspace."}


@router.get(
    "/videos",
    operation_id="listVideos",
    response_model=VideoPage,
    summary="List the workspace's videos, most recently changed first",
    responses=error_responses({422: "A filter or the cursor is invalid."}),
)
async def list_videos(
    caller: Reader,
    library: LibraryDep,
    state: Annotated[
        str | None,
        Query(pattern=r"^[A-Z_]{2,20}$", description="A job status (COMPLETED, FAILED, …) or SCRIPT (no job yet)."),
    ] = None,
    review: ReviewDecision | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in the title or the video id.")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> VideoPage:
    return await library.videos(caller, state=state, review=review, search=q, limit=limit, cursor=cursor)


@router.get(
    "/videos/{video_id}",
    operation_id="getVideo",
    response_model=VideoSummary,
    summary="Read a video's summary: its newest job's state, its review, its thumbnail",
    responses=error_responses(NO_VIDEO),
)
async def get_video(video_id: VideoIdPath, caller: Reader, access: AccessDep, library: LibraryDep) -> VideoSummary:
    await access.video(caller, video_id)
    return await library.video(video_id)


@router.delete(
    "/videos/{video_id}",
    operation_id="deleteVideo",
    status_code=204,
    summary="Delete a video with its scripts, jobs, comments and stored assets",
    responses=error_responses(NO_VIDEO | {409: "The video is rendering; cancel its job first (`details.job_id`)."}),
)
async def delete_video(video_id: VideoIdPath, caller: Renderer, access: AccessDep, library: LibraryDep) -> Response:
    await access.video(caller, video_id)
    await library.delete(video_id)
    return Response(status_code=204)


@router.post(
    "/videos/{video_id}/review",
    operation_id="reviewVideo",
    response_model=VideoSummary,
    summary="Approve or reject the finished video (a library state, apart from the job's)",
    responses=error_responses(
        NO_VIDEO | {409: "The video has no COMPLETED render yet.", 422: "A rejection needs a reason."}
    ),
)
async def review_video(
    video_id: VideoIdPath, decision: Review, caller: ScriptWriter, access: AccessDep, library: LibraryDep
) -> VideoSummary:
    await access.video(caller, video_id)
    return await library.review(video_id, decision)


@router.get(
    "/videos/{video_id}/comments",
    operation_id="listComments",
    response_model=list[Comment],
    summary="List a video's timecoded comments, in video order",
    responses=error_responses(NO_VIDEO),
)
async def list_comments(video_id: VideoIdPath, caller: Reader, access: AccessDep, library: LibraryDep) -> list[Comment]:
    await access.video(caller, video_id)
    return await library.comments(video_id)


@router.post(
    "/videos/{video_id}/comments",
    operation_id="addComment",
    response_model=Comment,
    status_code=201,
    summary="Comment on a moment of the video",
    responses=error_responses(NO_VIDEO | {422: "`at_sec` lies past the video's end, or the text is empty."}),
)
async def add_comment(
    video_id: VideoIdPath, body: NewComment, caller: ScriptWriter, access: AccessDep, library: LibraryDep
) -> Comment:
    await access.video(caller, video_id)
    return await library.add_comment(caller, video_id, body)


@router.patch(
    "/videos/{video_id}/comments/{comment_id}",
    operation_id="changeComment",
    response_model=Comment,
    summary="Mark a comment resolved (or not)",
    responses=error_responses({404: "No such video, or no such comment on it."}),
)
async def change_comment(
    video_id: VideoIdPath,
    comment_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    change: CommentChange,
    caller: ScriptWriter,
    access: AccessDep,
    library: LibraryDep,
) -> Comment:
    await access.video(caller, video_id)
    return await library.change_comment(video_id, comment_id, change)


@router.get(
    "/render-jobs",
    operation_id="listAllRenderJobs",
    response_model=JobPage,
    summary="List the workspace's render jobs, newest first",
    responses=error_responses({422: "A filter or the cursor is invalid."}),
)
async def list_all_render_jobs(
    caller: Reader, library: LibraryDep, status: JobStatus | None = None, limit: Limit = 20, cursor: Cursor = None
) -> JobPage:
    return await library.jobs(caller, status=status, limit=limit, cursor=cursor)


@router.get(
    "/scripts",
    operation_id="listAllScripts",
    response_model=ScriptPage,
    summary="List the workspace's scripts (their latest versions), newest first",
    responses=error_responses({422: "A filter or the cursor is invalid."}),
)
async def list_all_scripts(
    caller: Reader, library: LibraryDep, status: ScriptStatus | None = None, limit: Limit = 20, cursor: Cursor = None
) -> ScriptPage:
    return await library.scripts(caller, status=status, limit=limit, cursor=cursor)
