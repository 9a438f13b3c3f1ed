"""OpenAPI links: how the ids one answer carries feed the next call (generate → read → approve → render → follow).

They document the API's flow for client authors, and they are what schemathesis' stateful phase chains calls by.
"""

from typing import Any

SCRIPT_FROM_ACCEPTED = {"script_id": "$response.body#/script_id"}
SCRIPT_FROM_SCRIPT = {"script_id": "$response.body#/script_id"}
JOB_FROM_CREATED = {"job_id": "$response.body#/job/job_id"}
JOB_FROM_JOB = {"job_id": "$response.body#/job_id"}


def _link(operation_id: str, description: str, parameters: dict[str, str], body: Any = None) -> dict[str, Any]:
    link: dict[str, Any] = {"operationId": operation_id, "parameters": parameters, "description": description}
    if body is not None:
        link["requestBody"] = body
    return link


def _render_from_script() -> dict[str, Any]:
    return _link(
        "startRenderJob",
        "Render the approved script.",
        {"video_id": "$response.body#/video_id"},
        {"script_id": "$response.body#/script_id"},
    )


SCRIPT_ACCEPTED_LINKS = {
    "ReadScript": _link("getScript", "Poll the script until it is written.", SCRIPT_FROM_ACCEPTED),
    "ApproveScript": _link("approveScript", "Approve it once written.", SCRIPT_FROM_ACCEPTED),
    "ListScriptVersions": _link("listScriptVersions", "Its versions once written.", SCRIPT_FROM_ACCEPTED),
}
SCRIPT_LINKS = {
    "EditScript": _link("editScript", "Edit it into the next version.", SCRIPT_FROM_SCRIPT),
    "ApproveScript": _link("approveScript", "Approve the latest version.", SCRIPT_FROM_SCRIPT),
    "StartRenderJob": _render_from_script(),
    "ListVideoScripts": _link("listVideoScripts", "The video's scripts.", {"video_id": "$response.body#/video_id"}),
}
JOB_CREATED_LINKS = {
    "ReadRenderJob": _link("getRenderJob", "Read the job.", JOB_FROM_CREATED),
    "CancelRenderJob": _link("cancelRenderJob", "Cancel it.", JOB_FROM_CREATED),
    "RetryRenderJob": _link("retryRenderJob", "Retry it once it failed or was canceled.", JOB_FROM_CREATED),
    "ListRenderJobs": _link("listRenderJobs", "The video's jobs.", {"video_id": "$response.body#/job/video_id"}),
}
JOB_LINKS = {
    "ReadRenderJob": _link("getRenderJob", "Read the job again.", JOB_FROM_JOB),
    "CancelRenderJob": _link("cancelRenderJob", "Cancel the running attempt.", JOB_FROM_JOB),
    "RetryRenderJob": _link("retryRenderJob", "Retry it as the next attempt.", JOB_FROM_JOB),
}
