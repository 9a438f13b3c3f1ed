"""Everything about a render request that can be checked before its job exists, beyond what its body's types say:
the voice (its provider enabled here; an espeak-ng voice one it has), the publish target (a channel the
workspace connected, or the install's own), the callback_url (a public address, and a secret to sign with) and
the uploads it names.

A request that passes renders; one that does not is refused with a 422 naming each field, instead of failing
minutes later in tts or compose. The same checks run for ``POST …/render-jobs``, ``POST /api/ranking-jobs`` and
the ``render_defaults`` of an ``auto_render`` script request (a ranking short's voice only when it narrates its
labels).
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog

from reelflow.contracts import MusicTrack, PublishTarget, RankingSpec, RenderSpec, Voice
from reelflow.gateway.job_media import (
    NamedUpload,
    require_lesson_music,
    require_lesson_uploads,
    require_ranking_media,
)
from reelflow.gateway.refusals import InvalidRequestError
from reelflow.gateway.render_specs import CALLBACK_NOT_SIGNED, PUBLISH_NOT_CONFIGURED
from reelflow.gateway.webhook_targets import target_problems
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.failures import TtsError
from reelflow.runtime.voice_catalogue import VoiceCatalogue, espeak_catalogue, espeak_voice_for

log = structlog.get_logger("reelflow.render_checks")
Problem = dict[str, str]


def _field(within: str, name: str) -> str:
    return f"{within}.{name}" if within else name


def publish_problems(
    publish: PublishTarget | None, *, available: bool, connected: Sequence[str] = (), within: str = ""
) -> list[Problem]:
    """Whether ``publish`` can reach a channel: the connected one it names (``connected`` holds the workspace's
    channel ids), else the install's own (``available``), else the workspace's only connected channel."""
    if publish is None:
        return []
    if publish.channel_id is not None:
        if publish.channel_id in connected:
            return []
        listed = f" (connected: {', '.join(connected)})" if connected else ""
        problem = (
            f"channel {publish.channel_id} is not connected to this workspace{listed}; connect it at /api/channels "
            "(POST /api/channels/oauth/start), or leave channel_id out"
        )
        return [{"field": _field(within, "publish.channel_id"), "problem": problem}]
    if available or len(connected) == 1:
        return []
    if connected:
        problem = (
            f"this workspace has connected several channels ({', '.join(connected)}) and the install has none of its "
            "own; name one in publish.channel_id"
        )
        return [{"field": _field(within, "publish.channel_id"), "problem": problem}]
    return [{"field": _field(within, "publish"), "problem": PUBLISH_NOT_CONFIGURED}]


def resolved_publish(
    publish: PublishTarget, *, available: bool, connected: Sequence[str], workspace_id: str
) -> PublishTarget:
    """The target as the job stores it: the workspace's only channel filled in when it names none and the install
    has no channel of its own, and ``workspace_id`` set to the workspace exactly when a channel is named (so the
    uploader finds the grant under it); whatever the request sent there is replaced."""
    channel_id = publish.channel_id
    if channel_id is None and not available and len(connected) == 1:
        channel_id = connected[0]
    return publish.model_copy(
        update={"channel_id": channel_id, "workspace_id": workspace_id if channel_id is not None else None}
    )


class ChannelDirectory(Protocol):
    async def channel_ids(self, workspace_id: str) -> list[str]:
        """The workspace's connected YouTube channels."""
        ...


def provider_problems(voice: Voice | None, enabled: frozenset[str], *, within: str = "") -> list[Problem]:
    """A cloud voice provider must be enabled on this install (espeak-ng always is)."""
    if voice is None or voice.provider == "espeak" or voice.provider in enabled:
        return []
    problem = (
        f"this install has not enabled the {voice.provider!r} voice provider (enabled: "
        f"{', '.join(['espeak', *sorted(enabled - {'espeak'})])}); add it to REELFLOW_VOICE_PROVIDERS for the gateway "
        f"and tts, with its settings ({PROVIDER_SETTINGS.get(voice.provider, 'see the README')}) for tts, or use "
        "another provider (GET /api/voices)"
    )
    return [{"field": _field(within, "voice.provider"), "problem": problem}]


PROVIDER_SETTINGS = {
    "openai": "REELFLOW_OPENAI_TTS_API_KEY",
    "polly": "REELFLOW_POLLY_REGION and REELFLOW_POLLY_ACCESS_KEY_ID/_SECRET_ACCESS_KEY or an AWS role",
    "google": "REELFLOW_GOOGLE_TTS_API_KEY or REELFLOW_GOOGLE_TTS_CREDENTIALS_FILE",
}


def voice_problems(catalogue: VoiceCatalogue, voice: Voice | None, language: str, *, within: str = "") -> list[Problem]:
    """The voice espeak-ng would be asked for (the named one, else the language's) must be one it has."""
    named = voice.voice if voice is not None and voice.voice and voice.voice.strip() else None
    wanted = espeak_voice_for(language, named)
    if catalogue.knows(wanted):
        return []
    suggestions = ", ".join(catalogue.closest(wanted)) or "see `espeak-ng --voices`"
    if named is None:
        problem = (
            f"espeak-ng has no voice for the script's language {language!r}; name one in voice.voice "
            f"(e.g. {suggestions})"
        )
    else:
        problem = f"espeak-ng has no voice {named!r}; use one it has (e.g. {suggestions})"
    return [{"field": _field(within, "voice.voice"), "problem": problem}]


@dataclass(frozen=True)
class CallbackChecks:
    """Whether a job's callback_url can be called: a secret signs it, and its target is allowed (no SSRF)."""

    signed: bool = False
    allow_private_targets: bool = False

    def problems(self, callback_url: str | None, *, within: str = "") -> list[Problem]:
        if callback_url is None:
            return []
        name = _field(within, "callback_url")
        if not self.signed:
            return [{"field": name, "problem": CALLBACK_NOT_SIGNED}]
        return target_problems(name, callback_url, allow_private=self.allow_private_targets)


@dataclass(frozen=True)
class RenderChecks:
    blobs: BlobStore
    media_bucket: str
    publishing_available: bool = False
    voice_catalogue: Callable[[], Awaitable[VoiceCatalogue]] = espeak_catalogue
    callbacks: CallbackChecks = CallbackChecks()
    voice_providers: frozenset[str] = frozenset({"espeak"})
    # The workspaces' connected channels, and the workspace of a video; None: no channels can be connected.
    channels: ChannelDirectory | None = None
    owner_of: Callable[[str], Awaitable[str]] | None = None

    async def workspace_of(self, video_id: str) -> str | None:
        """The workspace of the video, when channels can be connected (otherwise nobody asks)."""
        return None if self.owner_of is None else await self.owner_of(video_id)

    async def _connected(self, workspace_id: str | None) -> list[str]:
        if self.channels is None or workspace_id is None:
            return []
        return await self.channels.channel_ids(workspace_id)

    async def publish_problems(
        self, publish: PublishTarget | None, workspace_id: str | None, *, within: str = ""
    ) -> list[Problem]:
        if publish is None:
            return []
        connected = await self._connected(workspace_id)
        return publish_problems(publish, available=self.publishing_available, connected=connected, within=within)

    async def with_publish_channel(self, spec: RenderSpec, video_id: str) -> RenderSpec:
        """The spec as its job stores it: its publish target's channel resolved for the video's workspace."""
        if spec.publish is None:
            return spec
        workspace_id = await self.workspace_of(video_id)
        publish = resolved_publish(
            spec.publish,
            available=self.publishing_available,
            connected=await self._connected(workspace_id),
            workspace_id=workspace_id or "",
        )
        return spec.model_copy(update={"publish": publish})

    async def _voice_problems(self, voice: Voice | None, language: str, within: str) -> list[Problem]:
        if voice is not None and voice.provider != "espeak":
            # A cloud voice's name is checked by its provider in tts, whose refusal names voice.voice.
            return provider_problems(voice, self.voice_providers, within=within)
        try:
            catalogue = await self.voice_catalogue()
        except TtsError as exc:
            # Cannot tell here; tts refuses an unknown voice itself, naming it (TTS_FAILED).
            log.warning("voice not checked: espeak-ng cannot list its voices", error=exc.message)
            return []
        return voice_problems(catalogue, voice, language, within=within)

    async def lesson(
        self,
        *,
        voice: Voice | None,
        language: str,
        music: MusicTrack | None,
        publish: PublishTarget | None,
        callback_url: str | None = None,
        uploads: list[NamedUpload] | None = None,
        within: str = "",
        workspace_id: str | None = None,
    ) -> None:
        """Refuse a lesson render whose publish target, callback, voice, music or uploads (pictures and fonts, see
        ``job_media.lesson_uploads``) cannot work (in that order). ``workspace_id`` is whose channels ``publish``
        may name."""
        problems = (
            await self.publish_problems(publish, workspace_id, within=within)
            + self.callbacks.problems(callback_url, within=within)
            + await self._voice_problems(voice, language, within)
        )
        if problems:
            raise InvalidRequestError.of(problems)
        await require_lesson_music(self.blobs, self.media_bucket, music, within=within)
        await require_lesson_uploads(self.blobs, self.media_bucket, uploads or [], within=within)

    async def ranking(self, spec: RankingSpec, *, workspace_id: str | None = None) -> None:
        """Refuse a ranking short that asks to be published or called back where it cannot, whose voice (when its
        labels are narrated) cannot speak, or whose clips and music are not uploads."""
        problems = await self.publish_problems(spec.publish, workspace_id)
        problems += self.callbacks.problems(spec.callback_url)
        if spec.voice is not None:
            problems += await self._voice_problems(spec.voice, spec.language, "")
        if problems:
            raise InvalidRequestError.of(problems)
        await require_ranking_media(self.blobs, self.media_bucket, spec)
