"""A script's versions: an edit makes the next DRAFT version, only the latest is edited or approved, older ones
stay readable exactly as they were written.

These are pure rules; the ledger persists what they return. A version older than the latest is shown as ARCHIVED:
it was superseded, so it can be read but no longer edited, approved or rendered.
"""

import re
from collections.abc import Iterable
from datetime import datetime

from pydantic import Field

from reelflow.contracts import Script, ScriptStatus, VideoScript
from reelflow.contracts._base import Contract
from reelflow.gateway.refusals import ConflictError, InvalidRequestError, NotFoundError
from reelflow.gateway.request_bodies import RequestBody

# A version as an entity tag: `"3"`, optionally weak (`W/"3"`) or unquoted (`3`) for hand-written requests.
_IF_MATCH_VERSION = re.compile(r'^(?:W/)?"?([1-9][0-9]{0,8})"?$')
# The same, as the OpenAPI document states it (``*`` names no version).
IF_MATCH_PATTERN = r'^(\*|(W/)?"?[1-9][0-9]{0,8}"?)$'


class ScriptEdit(RequestBody):
    """Body of ``PUT /api/scripts/{script_id}``: the new chapters and scenes, replacing the current ones whole."""

    script: VideoScript = Field(description="The edited chapters and scenes (the same shape GET returns as `script`).")
    title: str | None = Field(default=None, description="A new title; leave it out to keep the current one.")
    version: int | None = Field(
        default=None,
        ge=1,
        description="The version you edited. When the script has moved on since, the edit is refused with 409 "
        "instead of overwriting someone else's change. An `If-Match` header may carry it instead.",
    )


class ScriptApproval(RequestBody):
    """Optional body of ``POST /api/scripts/{script_id}/approve``."""

    version: int | None = Field(
        default=None,
        ge=1,
        description="The version you reviewed. Only the latest version can be approved; an older one answers 409.",
    )


class ScriptVersionSummary(Contract):
    version: int
    status: ScriptStatus = Field(description="The latest version's status; every older version is ARCHIVED.")
    title: str
    scene_count: int
    created_at: datetime = Field(description="When this version was written.")


class ScriptHistory(Contract):
    """One script and every version it has had, newest first."""

    script_id: str
    video_id: str
    latest_version: int
    status: ScriptStatus = Field(description="The status of the latest version.")
    title: str
    created_at: datetime = Field(description="When the oldest kept version was written.")
    updated_at: datetime = Field(description="When the latest version was written.")
    versions: list[ScriptVersionSummary] = Field(description="Newest first.")


def version_etag(version: int) -> str:
    return f'"{version}"'


def version_from_if_match(header: str | None) -> int | None:
    """The version an ``If-Match`` header names; no header, or ``*``, names none."""
    if header is None or header.strip() in ("", "*"):
        return None
    match = _IF_MATCH_VERSION.match(header.strip())
    if match is None:
        problem = 'not a script version; send the ETag of GET /api/scripts/{script_id}, e.g. "2"'
        raise InvalidRequestError.of([{"field": "If-Match", "problem": problem}], message=f"If-Match is {problem}")
    return int(match.group(1))


def expected_version(body_version: int | None, if_match: str | None) -> int | None:
    """The version the caller says they are acting on, from the body or the ``If-Match`` header (never both apart)."""
    header_version = version_from_if_match(if_match)
    if body_version is not None and header_version is not None and body_version != header_version:
        problem = f"the body names version {body_version} but If-Match names {header_version}; send one of them"
        raise InvalidRequestError.of([{"field": "version", "problem": problem}], message=problem)
    return body_version if body_version is not None else header_version


def _refuse_archived(script: Script, action: str) -> None:
    if script.status == ScriptStatus.ARCHIVED:
        raise ConflictError(
            f"script {script.script_id} is archived and can no longer be {action}",
            details={"script_id": script.script_id, "status": script.status.value},
        )


def _refuse_stale(script: Script, expected: int | None, remedy: str) -> None:
    if expected is None or expected == script.version:
        return
    raise ConflictError(
        f"script {script.script_id} is at version {script.version}, not {expected}; {remedy}",
        details={"script_id": script.script_id, "current_version": script.version, "expected_version": expected},
    )


def next_version(current: Script, edit: ScriptEdit, *, expected: int | None, at: datetime) -> Script:
    """The script after ``edit``: version + 1, a DRAFT again (it must be reviewed again before it renders).

    An edit that changes nothing returns ``current`` as it is, so a retried PUT whose first attempt landed does
    not make an empty version (nor fail as stale).
    """
    _refuse_archived(current, "edited")
    title = current.title if edit.title is None else edit.title
    if edit.script == current.script and title == current.title:
        return current
    _refuse_stale(
        current,
        expected,
        f"it changed after you read it: read version {current.version} "
        f"(GET /api/scripts/{current.script_id}), apply your edit to it and send it again",
    )
    return current.model_copy(
        update={
            "version": current.version + 1,
            "status": ScriptStatus.DRAFT,
            "title": title,
            "script": edit.script,
            "created_at": at,
        }
    )


def approved(current: Script, *, expected: int | None) -> Script:
    """The latest version, APPROVED; asking to approve an older version is refused (it was superseded)."""
    _refuse_archived(current, "approved")
    _refuse_stale(
        current,
        expected,
        f"only the latest version can be approved: review version {current.version} "
        f"(GET /api/scripts/{current.script_id}) and approve that one",
    )
    if current.status == ScriptStatus.APPROVED:
        return current
    return current.model_copy(update={"status": ScriptStatus.APPROVED})


def superseded(kept: Script) -> Script:
    return kept.model_copy(update={"status": ScriptStatus.ARCHIVED})


def version_of(latest: Script, version: int, kept: Script | None) -> Script:
    """Version ``version`` as the API shows it, given the latest and the kept copy of that version (if any)."""
    if version == latest.version:
        return latest
    if not 1 <= version < latest.version:
        raise NotFoundError(
            f"script {latest.script_id} has no version {version}; its latest is {latest.version}",
            details={"script_id": latest.script_id, "latest_version": latest.version},
        )
    if kept is None:
        raise NotFoundError(
            f"version {version} of script {latest.script_id} was not kept (it predates version history)",
            details={"script_id": latest.script_id, "latest_version": latest.version},
        )
    return superseded(kept)


def _summary(script: Script) -> ScriptVersionSummary:
    return ScriptVersionSummary(
        version=script.version,
        status=script.status,
        title=script.title,
        scene_count=len(script.script.scenes()),
        created_at=script.created_at,
    )


def history_of(latest: Script, kept: Iterable[Script]) -> ScriptHistory:
    """The script's versions, newest first: the latest as it stands, the older kept ones as ARCHIVED."""
    by_version = {script.version: superseded(script) for script in kept if script.version < latest.version}
    by_version[latest.version] = latest
    versions = [_summary(by_version[number]) for number in sorted(by_version, reverse=True)]
    return ScriptHistory(
        script_id=latest.script_id,
        video_id=latest.video_id,
        latest_version=latest.version,
        status=latest.status,
        title=latest.title,
        created_at=versions[-1].created_at,
        updated_at=latest.created_at,
        versions=versions,
    )


def newest_first(histories: Iterable[ScriptHistory]) -> list[ScriptHistory]:
    """Most recently written first; the script id breaks ties so the order is stable."""
    return sorted(histories, key=lambda history: (history.updated_at, history.script_id), reverse=True)
