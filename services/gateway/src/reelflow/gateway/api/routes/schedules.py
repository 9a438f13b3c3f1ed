"""Schedule routes (channel automation): a workspace's schedules of single items or a cron cadence with a queue of
titles; each read shows its items' statuses.

Reading needs the `read` scope. Making, changing and deleting a schedule needs `scripts` and `render` (its items
write scripts and render them with no one asking at the time), and `publish` too when it publishes to YouTube.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from reelflow.gateway.accounts import Caller, Scope
from reelflow.gateway.api.deps import AccessDep, Reader, SchedulesDep, ScriptWriter
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.schedule_bodies import SCHEDULE_ID_PATTERN, NewSchedule, ScheduleChange, ScheduleView

router = APIRouter(prefix="/api", tags=["schedules"])

ScheduleIdPath = Annotated[str, Path(pattern=SCHEDULE_ID_PATTERN, description="`sch_` and 24 hex digits.")]
NO_SCHEDULE = {404: "No such schedule in this workspace."}
STATUSES = (
    "Each item shows `status`: `scheduled` (not due yet) → `script_processing` → `waiting_review` (only without "
    "`auto_approve`, until the script is approved) → `image_processing` (the narration and the slides: there is no "
    "separate image step) → `video_processing` (compose and storage) → `youtube_processing` (only with `publish`) "
    "→ `completed`; or `failed`, with `error.code` and `error.message` (e.g. LLM_FAILED for a topic when no LLM is "
    "configured). They are read from the item's script and render job."
)
INVALID = (
    "The body is invalid (`details.problems` names each field): an unknown IANA zone, a cron expression that is "
    "not 5 valid fields, a title with neither or both of `source_text` and `topic`, or render options or a "
    "`publish` target that could not work here."
)


def _write_scopes(caller: Caller, publishes: bool) -> None:
    caller.require(Scope.RENDER)
    if publishes:
        caller.require(Scope.PUBLISH)


@router.post(
    "/schedules",
    operation_id="createSchedule",
    response_model=ScheduleView,
    status_code=201,
    summary="Schedule videos: single items at their due times, or a cron cadence taking titles from a queue",
    description=STATUSES,
    responses=error_responses({422: INVALID}),
)
async def create_schedule(
    body: NewSchedule, caller: ScriptWriter, access: AccessDep, schedules: SchedulesDep
) -> ScheduleView:
    _write_scopes(caller, body.publish is not None)
    await access.lesson_music(caller, body.render.music, within="render")
    return await schedules.create(caller, body)


@router.get(
    "/schedules",
    operation_id="listSchedules",
    response_model=list[ScheduleView],
    summary="List the workspace's schedules, with their items' statuses",
    description=STATUSES,
    responses=error_responses(),
)
async def list_schedules(caller: Reader, schedules: SchedulesDep) -> list[ScheduleView]:
    return await schedules.of_workspace(caller)


@router.get(
    "/schedules/{schedule_id}",
    operation_id="getSchedule",
    response_model=ScheduleView,
    summary="Read a schedule and its items' statuses",
    description=STATUSES,
    responses=error_responses(NO_SCHEDULE),
)
async def get_schedule(schedule_id: ScheduleIdPath, caller: Reader, schedules: SchedulesDep) -> ScheduleView:
    return await schedules.get(caller, schedule_id)


@router.patch(
    "/schedules/{schedule_id}",
    operation_id="changeSchedule",
    response_model=ScheduleView,
    summary="Change a schedule: pause it, its settings, its cadence or queue, or add and drop items not fired yet",
    description="Items already fired are kept as they are; a new cadence (or enabling a paused one) counts its "
    "next occurrence from now.",
    responses=error_responses({**NO_SCHEDULE, 422: INVALID}),
)
async def change_schedule(
    schedule_id: ScheduleIdPath, body: ScheduleChange, caller: ScriptWriter, access: AccessDep, schedules: SchedulesDep
) -> ScheduleView:
    _write_scopes(caller, body.publish is not None)
    if body.render is not None:
        await access.lesson_music(caller, body.render.music, within="render")
    return await schedules.change(caller, schedule_id, body)


@router.delete(
    "/schedules/{schedule_id}",
    operation_id="deleteSchedule",
    status_code=204,
    summary="Delete a schedule (the videos its items made stay in the library)",
    responses=error_responses(NO_SCHEDULE),
)
async def delete_schedule(schedule_id: ScheduleIdPath, caller: ScriptWriter, schedules: SchedulesDep) -> Response:
    _write_scopes(caller, False)
    await schedules.delete(caller, schedule_id)
    return Response(status_code=204)
