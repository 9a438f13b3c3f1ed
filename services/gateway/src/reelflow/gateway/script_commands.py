"""Script commands and queries: ask for a script to be written, read it and its versions, edit it, approve it.

A script request is recorded with the ``rf.script.requested`` it owes in one MongoDB write (see ``outbox``), so it
is accepted whether or not NATS is up; the script itself is written by the ledger when ``rf.script.generated``
comes back (``event_projector``).
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import structlog
from pydantic import Field, StringConstraints

from reelflow.contracts import RenderDefaults, Script, ScriptOptions, ScriptRequested
from reelflow.contracts._base import Contract
from reelflow.gateway.outbox import OutboxRelay
from reelflow.gateway.refusals import (
    GatewayError,
    InvalidRequestError,
    NotFoundError,
    NotReadyError,
    ScriptWritingFailedError,
)
from reelflow.gateway.render_checks import RenderChecks
from reelflow.gateway.request_bodies import RequestBody
from reelflow.gateway.script_versions import (
    ScriptEdit,
    ScriptHistory,
    approved,
    history_of,
    newest_first,
    next_version,
    version_of,
)
from reelflow.gateway.store import SCRIPT_REQUESTS, LedgerStore, ScriptRequestState

log = structlog.get_logger("reelflow.scripts")
MAX_SOURCE_CHARS = 100_000
NEEDS_TEXT = (
    "give the lesson text in source_text (or at least a title, for a topic-only script written by the LLM writer)"
)


class GenerateScript(RequestBody):
    """Body of ``POST /api/videos/{video_id}/scripts/generate``."""

    source_text: str = Field(default="", description="The lesson, Markdown or plain text.", max_length=MAX_SOURCE_CHARS)
    title: str = Field(default="", max_length=200)
    options: ScriptOptions = Field(default_factory=ScriptOptions)
    auto_render: bool = Field(
        default=False,
        description="Approve the written script at once and start its render job, skipping the review.",
    )
    render_defaults: RenderDefaults | None = Field(
        default=None,
        description="How the auto-rendered job renders; checked now exactly like a render-jobs request.",
    )
    material_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | int | None = Field(
        default=None,
        description="The Spring backend's material this script is for: once written, the script is sent to "
        "`POST {BACKEND_BASE_URL}/video/script/complete` as `{material_id, script_id, script, version}`.",
    )


class ScriptAccepted(Contract):
    script_id: str
    status: str


@dataclass(frozen=True)
class ScriptBeingWritten:
    """What ``GET /api/scripts/{id}`` knows of a script that is not written yet."""

    script_id: str
    state: ScriptRequestState


class ScriptCommands:
    def __init__(self, store: LedgerStore, relay: OutboxRelay, checks: RenderChecks) -> None:
        self._store = store
        self._relay = relay
        self._checks = checks

    async def request_script(
        self, video_id: str, body: GenerateScript, *, script_id: str | None = None
    ) -> ScriptAccepted:
        """Record the request and the event it owes, then try to publish it at once (it is owed either way).

        ``script_id`` names the script (a schedule derives it from its item); recording a request under an id that
        exists already raises ``DuplicateKeyError`` and changes nothing.
        """
        if not body.source_text.strip() and not body.title.strip():
            raise InvalidRequestError.of([{"field": "source_text", "problem": NEEDS_TEXT}])
        if body.auto_render or body.render_defaults is not None:
            defaults = body.render_defaults or RenderDefaults()
            await self._checks.lesson(
                voice=defaults.voice,
                language=body.options.language,
                music=defaults.music,
                publish=defaults.publish,
                callback_url=defaults.callback_url,
                within="render_defaults",
                workspace_id=await self._checks.workspace_of(video_id),
            )
        request = ScriptRequested(
            video_id=video_id, script_id=script_id or uuid.uuid4().hex, **body.model_dump(exclude={"material_id"})
        )
        await self._store.insert_script_request(request, datetime.now(UTC), material_id=body.material_id)
        await self._relay.relay_now(SCRIPT_REQUESTS, request.script_id)
        return ScriptAccepted(script_id=request.script_id, status=ScriptRequestState.PENDING)

    async def read_script(self, script_id: str) -> Script | ScriptBeingWritten:
        """The latest version, or where its writing stands; a failed writing is raised as its failure."""
        script = await self._store.get_script(script_id)
        if script is not None:
            return script
        request = await self._store.script_request(script_id)
        if request is None:
            raise NotFoundError(f"script {script_id} does not exist")
        if request.state == ScriptRequestState.FAILED and request.error is not None:
            raise ScriptWritingFailedError(request.error)
        return ScriptBeingWritten(script_id, request.state)

    async def edit_script(self, script_id: str, edit: ScriptEdit, *, expected_version: int | None) -> Script:
        """Make the next DRAFT version of the script; the version it supersedes stays readable."""
        now = datetime.now(UTC)
        # Keep the version being superseded before replacing it, so history never has a gap.
        await self._store.keep_script_version(await self.require_script(script_id))
        changed = await self._store.update_script(
            script_id, lambda current: next_version(current, edit, expected=expected_version, at=now)
        )
        if changed is None:
            raise await self.script_not_found(script_id)
        before, after = changed
        if after.version != before.version:
            await self._store.keep_script_version(before)
            await self._store.keep_script_version(after)
            log.info("script edited", script_id=script_id, version=after.version)
        return after

    async def approve_script(self, script_id: str, *, expected_version: int | None = None) -> Script:
        """Approve the latest version; naming an older version in ``expected_version`` is refused."""
        changed = await self._store.update_script(
            script_id, lambda current: approved(current, expected=expected_version)
        )
        if changed is None:
            raise await self.script_not_found(script_id)
        return changed[1]

    async def require_script(self, script_id: str) -> Script:
        script = await self._store.get_script(script_id)
        if script is None:
            raise await self.script_not_found(script_id)
        return script

    async def script_version(self, script_id: str, version: int) -> Script:
        latest = await self.require_script(script_id)
        kept = None if version == latest.version else await self._store.kept_script_version(script_id, version)
        return version_of(latest, version, kept)

    async def script_history(self, script_id: str) -> ScriptHistory:
        latest = await self.require_script(script_id)
        return history_of(latest, await self._store.kept_script_versions(script_id))

    async def scripts_of_video(self, video_id: str) -> list[ScriptHistory]:
        latest = await self._store.scripts_of_video(video_id)
        kept = await self._store.kept_script_versions_of_video(video_id)
        return newest_first(history_of(script, kept.get(script.script_id, [])) for script in latest)

    async def script_not_found(self, script_id: str) -> GatewayError:
        """404, or 409 NOT_READY while the script is still being written (so the caller knows to wait)."""
        request = await self._store.script_request(script_id)
        if request is not None and request.state == ScriptRequestState.PENDING:
            return NotReadyError(
                f"script {script_id} is still being written; try again when GET /api/scripts/{script_id} answers 200"
            )
        return NotFoundError(f"script {script_id} does not exist")
